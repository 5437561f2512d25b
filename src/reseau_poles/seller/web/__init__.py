"""The seller node's pages for people (``/gestion``): a pôle's staff, signed in with their own
accounts (:mod:`reseau_poles.portal`).

One router per feature (``home.py`` … ``products.py``, ``imports.py``, ``orders.py``,
``integrations.py``), listed in :data:`ROUTERS`; templates in ``templates/gestion/``; words
in ``reseau_poles/portal/messages/gestion.toml``. The portal itself (prefix, navigation,
accounts: organisation = the pôle's provider id) is :mod:`.portal`.
"""

from __future__ import annotations

from .home import router as home_router
from .imports import router as imports_router
from .integrations import router as integrations_router
from .orders import router as orders_router
from .products import router as products_router

# /produits/import… before /produits/{sku}/…
ROUTERS = [home_router, imports_router, products_router, orders_router, integrations_router]
