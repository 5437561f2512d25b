"""The buyer node's pages for people (``/portail``): an institution's buyers, approvers and
administrator, signed in with their own accounts (:mod:`reseau_poles.portal`).

One router per feature (``home.py`` … ``search.py``, ``carts.py``, ``orders.py``,
``guides.py``, ``report.py``), listed in :data:`ROUTERS`; templates in
``templates/portail/``; words in ``reseau_poles/portal/messages/portail.toml`` (and ``portail_suivi.toml`` for the
orders, guides and report). The portal
itself (prefix, navigation, accounts) is :mod:`.portal`.
"""

from __future__ import annotations

from .guides import router as guides_router
from .home import router as home_router
from .orders import router as orders_router
from .report import router as report_router

ROUTERS = [home_router, orders_router, guides_router, report_router]
