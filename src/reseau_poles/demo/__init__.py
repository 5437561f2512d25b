"""``reseau-poles demo``: the network on one machine, and the protocol core on its own.

* :mod:`.protocol` — ``reseau-poles demo protocol``: a search signed, verified, then altered;
* :mod:`.sample` — 25 fictional pôles in 10 regions and about 2,000 products, deterministic;
* :mod:`.network` — ``reseau-poles demo``: a registry, a gateway, a buyer node and seller nodes
  as real processes on SQLite in a local folder, every participant subscribed and approved;
* :mod:`.scenario` — ``reseau-poles demo --once``: a scripted run from search to delivery;
* :mod:`.accounts` — the portal's demonstration accounts (an institution, each pôle), printed
  with the portal's addresses at start.
"""

from __future__ import annotations

from .protocol import protocol_demo

__all__ = ["protocol_demo"]
