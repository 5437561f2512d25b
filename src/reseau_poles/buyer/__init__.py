"""The buyer node (BAP): what buyer apps and institutional purchasing systems call.

A search goes out signed to every matching seller node (or through the gateway), the
``on_search`` callbacks come back to ``/on_search`` and are merged per provider and item for
the client API under ``/api``. See ``buyer_node/README.md``.
"""
