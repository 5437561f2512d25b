"""The buyer node's pages for people (``/portail``): an institution's buyers, approvers and
administrator, signed in with their own accounts (:mod:`reseau_poles.portal`).

One router per feature (``home.py`` … ``search.py``, ``carts.py``, ``orders.py``,
``guides.py``, ``report.py``), listed in :data:`ROUTERS`; templates in
``templates/portail/``; words in ``reseau_poles/portal/messages/portail.toml`` (search and carts:
``portail_achat.toml``; orders, guides and report: ``portail_suivi.toml``). The portal
itself (prefix, navigation, accounts) is :mod:`.portal`.
"""

from __future__ import annotations

from .cart_orders import router as cart_orders_router
from .carts import router as carts_router
from .guides import router as guides_router
from .home import router as home_router
from .orders import router as orders_router
from .organisation import router as organisation_router
from .report import router as report_router
from .search import router as search_router

ROUTERS = [
    home_router,
    search_router,
    carts_router,
    cart_orders_router,
    orders_router,
    guides_router,
    report_router,
    organisation_router,
]
