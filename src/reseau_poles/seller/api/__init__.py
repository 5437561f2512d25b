"""The pôle's management API: one router per feature, under ``/api/providers/{provider_id}``.

Every route needs an API key of that very pôle (``X-API-Key`` or ``Authorization: Bearer``;
401 without a live key, 403 with another pôle's key: :mod:`.deps`). Bodies are JSON objects
read into the models of :mod:`..requests`; every refusal is an
``ApiError`` (4xx, a stable code, a French message and the path at fault). SQL runs in a
worker thread, in the services' transactions.

:data:`ROUTERS` is the order ``create_app`` includes them in: the CSV import and export come
before ``/products/{sku}``.
"""

from __future__ import annotations

from fastapi import APIRouter

from . import (
    api_keys,
    catalog_files,
    orders,
    pick_list,
    places,
    products,
    provider,
    stock,
    webhooks,
)

ROUTERS: list[APIRouter] = [
    orders.router,  # /orders (tag « commandes »)
    webhooks.router,  # /webhooks
    provider.router,  # the profile (tag « gestion »)
    places.router,  # /locations, /fulfillment-options
    catalog_files.router,  # /products/import, /products/export
    products.router,  # /products, /products/{sku}
    stock.router,  # /products/{sku}/stock, …/stock-movements
    api_keys.router,  # /api-keys
    pick_list.router,  # /pick-list
]
