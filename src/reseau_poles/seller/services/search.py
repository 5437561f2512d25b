"""``search``: the intent read into a :class:`~..repositories.search.SearchQuery`, the catalog found by the
search backend, rendered once per content (:class:`~.catalog.CatalogDocuments`) and spliced as
JSON text into the ``on_search`` that goes to the outbox."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from reseau_poles.protocol.errors import ErrorCode
from reseau_poles.protocol.profile import (
    Page,
    ProviderResults,
    parse_item_tags,
    parse_page,
    parse_region,
)
from reseau_poles.storage.engine import SQLITE_IMMEDIATE

from ..repositories import products as product_repo
from ..repositories import providers as provider_repo
from ..repositories.search import SearchQuery
from .callbacks import ProtocolBase, Row, dig, refuse
from .catalog import (
    to_json,
)


class Searching(ProtocolBase):
    def search_query(self, payload: Mapping[str, Any]) -> SearchQuery:
        intent = dig(payload, "message", "intent") or {}
        path = "message.intent"
        text = dig(intent, "item", "descriptor", "name") or dig(intent, "descriptor", "name")
        region_path, region = (
            "context.location.city.code",
            dig(payload, "context", "location", "city", "code"),
        )
        for index, stop in enumerate(dig(intent, "fulfillment", "stops") or []):
            code = dig(stop, "location", "city", "code")
            if dig(stop, "type") == "end" and code:
                region_path = f"{path}.fulfillment.stops[{index}].location.city.code"
                region = code
        tags_path, tags = f"{path}.tags", intent.get("tags")
        if not tags and dig(intent, "item", "tags"):
            tags_path, tags = f"{path}.item.tags", intent["item"]["tags"]
        wanted = parse_item_tags(tags or [], path=tags_path)
        page = parse_page(intent.get("tags") or [], path=f"{path}.tags") or Page()
        limit = self.settings.on_search_max_items
        if page.start and not dig(intent, "provider", "id"):
            raise refuse(
                "La pagination (groupe « pagination », debut > 0) se demande pour un pôle : "
                "indiquez provider.id.",
                ErrorCode.INVALID_REQUEST,
                f"{path}.provider.id",
            )
        category = dig(intent, "category", "id") or dig(intent, "category", "descriptor", "name")
        return SearchQuery(
            text=text if isinstance(text, str) else None,
            provider_id=dig(intent, "provider", "id"),
            category=category if isinstance(category, str) else None,
            item_id=dig(intent, "item", "id"),
            region=str(parse_region(region, path=region_path)) if region else None,
            certifications=frozenset(c.value for c in wanted.certifications),
            conservation=wanted.conservation.value if wanted.conservation else None,
            limit=min(page.size or limit, limit),
            offset=page.start,
        )

    def catalog(self, session: Session | Connection, query: SearchQuery) -> dict[str, Any]:
        """The ``catalog`` of the ``on_search`` answering ``query``."""
        return json.loads(self.catalog_json(session, query))

    def catalog_json(self, session: Session | Connection, query: SearchQuery) -> str:
        """:meth:`catalog` as compact JSON text, from documents rendered once per content
        (:class:`~.catalog.CatalogDocuments`): what :meth:`handle_search` sends."""
        result = self.search_backend.search(session, query)
        found = (
            result.rows
            if result.rows is not None
            else product_repo.get_items(session, result.item_ids)
        )
        by_provider: dict[str, list[Row]] = defaultdict(list)
        for row in found:
            by_provider[row["provider_id"]].append(row)
        # Every pôle with matches is named, with how many matched and how many are sent
        # (profile group ``resultats``), even one none of whose items made this page.
        matched = result.per_provider or {p: len(rows) for p, rows in by_provider.items()}
        for provider_id in matched:
            by_provider.setdefault(provider_id, [])
        providers = [
            self.documents.provider_json(
                profile.provider,
                profile.locations,
                profile.options,
                by_provider[profile.provider["id"]],
                ProviderResults(
                    total=matched.get(profile.provider["id"], 0),
                    shown=len(by_provider[profile.provider["id"]]),
                    start=result.offset,
                    more=result.more,
                ),
            )
            for profile in sorted(
                provider_repo.get_profiles(session, list(by_provider)) if by_provider else [],
                key=lambda profile: not by_provider[profile.provider["id"]],
            )
        ]
        if not result.total:
            summary = "Aucun produit ne correspond à la recherche."
        elif result.truncated:
            # Counting stops at search.COUNT_LIMIT: « plus de 1000 », code "100/1000+".
            total = f"plus de {result.total}" if result.more else str(result.total)
            summary = (
                f"{len(result.item_ids)} produits affichés sur {total} ; "
                "le compte de chaque pôle est dans son groupe « resultats », la suite "
                "se demande pôle par pôle (groupe « pagination »)."
            )
        else:
            summary = f"{result.total} produit(s) trouvé(s)."
        descriptor = {
            "name": self.settings.catalog_name,
            "short_desc": summary,
            "code": f"resultats:{len(result.item_ids)}/{result.total}"
            + ("+" if result.more else ""),
        }
        return (
            '{"descriptor":' + to_json(descriptor) + ',"providers":[' + ",".join(providers) + "]}"
        )

    def handle_search(self, payload: Mapping[str, Any]) -> None:
        query = self.search_query(payload)
        # Core connections, no ORM session: a search only executes statements (the same
        # transactions as read_session and write_session, without their per-use cost).
        with self.engine.connect() as connection:
            catalog = self.catalog_json(connection, query)
        if self.settings.check_own_on_search:
            self.callback(payload, "on_search", {"catalog": json.loads(catalog)})
        # The body as network.client.body_bytes writes it, the catalog spliced in as text:
        # its documents are not serialised again.
        context = self.callback(payload, "on_search", None, check=False)["context"]
        body = '{"context":' + to_json(context) + ',"message":{"catalog":' + catalog + "}}"
        ids = context.get("message_id"), context.get("transaction_id")
        with (
            self.network.outgoing() as out,
            self.engine.connect().execution_options(**{SQLITE_IMMEDIATE: True}) as connection,
            connection.begin(),
        ):
            out.send(
                connection,
                payload["context"]["bap_uri"],
                "on_search",
                body.encode("utf-8"),
                message_id=ids[0] if isinstance(ids[0], str) else None,
                transaction_id=ids[1] if isinstance(ids[1], str) else None,
            )
