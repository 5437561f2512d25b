"""Seller node (BPP): one or many pôles' catalogs, stock and orders on the network.

Layout (the same in every role): ``app`` (``create_app``: wiring only), ``settings``,
``cli`` (``reseau-poles seller …``), ``api/`` (one FastAPI router per feature of the pôle's
management API; ``api/deps.py`` gives routes their services and the caller's pôle),
``requests`` (input models) and ``answers`` (response models), ``services/`` (the logic of
each feature, among them the Beckn handlers of ``services/protocol.SellerService``),
``repositories/`` (the SQL per feature, on a typed ``Session``), ``tables`` (SQLAlchemy Core
tables, migrated by ``migrations/``).
"""
