"""What the routes of the management API get by dependency: the node's services and who is
calling (a pôle, known by one of its API keys).

``create_app`` keeps the services it built in :class:`SellerServices` on the application's
state; :func:`services` is the one place that reads it. ``provider_of_key`` reads the key
(``X-API-Key`` or ``Authorization: Bearer``), looks it up in a worker thread and returns the
provider id it belongs to, or refuses with a 401 ``non_authentifie``. ``own_provider`` is the
dependency of routes under ``/api/providers/{provider_id}/…``: the key must belong to that
very provider (403 ``acces_refuse`` otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials

from reseau_poles.participant.api import API_KEY_BEARER, API_KEY_HEADER, ApiError, api_key_owner
from reseau_poles.participant.webhook_subscriptions import WebhookSubscriptions

from ..services.api_keys import ApiKeys
from ..services.catalog_files import CatalogFiles
from ..services.import_jobs import ImportJobs
from ..services.orders import PoleOrders
from ..services.pick_list import PickLists
from ..services.places import Places
from ..services.products import Products
from ..services.protocol import SellerService
from ..services.providers import ProviderProfiles
from ..services.stock import Stock


@dataclass(frozen=True, slots=True)
class SellerServices:
    """Every service of the node, built once by ``create_app``."""

    protocol: SellerService
    providers: ProviderProfiles
    places: Places
    products: Products
    stock: Stock
    catalog_files: CatalogFiles
    orders: PoleOrders
    pick_lists: PickLists
    webhooks: WebhookSubscriptions
    api_keys: ApiKeys
    import_jobs: ImportJobs


def services(request: Request) -> SellerServices:
    """The node's services (the one read of the application's state)."""
    return request.app.state.services


Services = Annotated[SellerServices, Depends(services)]


def protocol(found: Services) -> SellerService:
    return found.protocol


def providers(found: Services) -> ProviderProfiles:
    return found.providers


def places(found: Services) -> Places:
    return found.places


def products(found: Services) -> Products:
    return found.products


def stock(found: Services) -> Stock:
    return found.stock


def catalog_files(found: Services) -> CatalogFiles:
    return found.catalog_files


def orders(found: Services) -> PoleOrders:
    return found.orders


def pick_lists(found: Services) -> PickLists:
    return found.pick_lists


def webhooks(found: Services) -> WebhookSubscriptions:
    return found.webhooks


def api_keys(found: Services) -> ApiKeys:
    return found.api_keys


ProtocolService = Annotated[SellerService, Depends(protocol)]
ProvidersService = Annotated[ProviderProfiles, Depends(providers)]
PlacesService = Annotated[Places, Depends(places)]
ProductsService = Annotated[Products, Depends(products)]
StockService = Annotated[Stock, Depends(stock)]
CatalogFilesService = Annotated[CatalogFiles, Depends(catalog_files)]
OrdersService = Annotated[PoleOrders, Depends(orders)]
PickListsService = Annotated[PickLists, Depends(pick_lists)]
WebhooksService = Annotated[WebhookSubscriptions, Depends(webhooks)]
ApiKeysService = Annotated[ApiKeys, Depends(api_keys)]


# --- who is calling ---------------------------------------------------------------------------


async def provider_of_key(
    request: Request,
    x_api_key: Annotated[str | None, Security(API_KEY_HEADER)] = None,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(API_KEY_BEARER)] = None,
) -> str:
    """The provider id of a live API key, or a 401."""
    keys = services(request).api_keys
    return await api_key_owner(
        keys.factory,
        x_api_key,
        request.headers.get("authorization"),
        keys.holder,
        request=request,
    )


def check_provider(provider_id: str, key_provider: str) -> str:
    """``provider_id`` if the key belongs to it; a 403 ``acces_refuse`` otherwise."""
    if provider_id != key_provider:
        raise ApiError(
            403,
            "acces_refuse",
            "Cette clé d'API appartient à un autre pôle.",
            "path.provider_id",
        )
    return provider_id


async def own_provider(
    provider_id: str, key_provider: Annotated[str, Depends(provider_of_key)]
) -> str:
    """Dependency of ``/api/providers/{provider_id}/…``: the path's provider, if it is the
    key's."""
    return check_provider(provider_id, key_provider)


ProviderOfKey = Annotated[str, Depends(provider_of_key)]
OwnProvider = Annotated[str, Depends(own_provider)]
