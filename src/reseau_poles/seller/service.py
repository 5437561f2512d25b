"""What the seller node does with each Beckn action: the logic between routes and SQL.

Each ``handle_*`` method reads the verified request, checks it against the catalog and
stock, and writes the callback into the outbox in the same transaction as any state change
(``NodeNetwork.enqueue``). It raises :class:`ProtocolError` (code and JSON path) for a
request it refuses, which the route turns into a NACK: no callback follows a NACK.

Methods are synchronous (SQLAlchemy sessions); routes run them in a worker thread and wake
the outbox worker afterwards.
"""

from __future__ import annotations

import secrets
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from reseau_poles.network import NodeNetwork
from reseau_poles.protocol.errors import ErrorCode, ProtocolError
from reseau_poles.protocol.lifecycle import cancellation_terms
from reseau_poles.protocol.models import ACTION_MODELS, format_datetime
from reseau_poles.protocol.profile import (
    TPS_LABEL,
    TVQ_LABEL,
    FulfillmentState,
    FulfillmentType,
    Unit,
    format_amount,
    line_amount,
    line_taxes,
    order_taxes,
    parse_item_tags,
    parse_region,
    payment_terms_group,
    tag,
    tag_group,
)
from reseau_poles.storage import make_session_factory, read_session, utcnow, write_session

from . import repository as repo
from .catalog import cad, fulfillment_document, keeps, payment_terms, provider_document
from .search import SearchBackend, SearchQuery, make_search
from .settings import SellerSettings

Row = Mapping[str, Any]


def _get(data: Any, *keys: str | int) -> Any:
    """``data[k1][k2]…`` or ``None`` as soon as a step is missing or of the wrong type."""
    for key in keys:
        if isinstance(key, int):
            if not isinstance(data, list) or len(data) <= key:
                return None
        elif not isinstance(data, dict):
            return None
        data = data[key] if isinstance(key, int) else data.get(key)
    return data


def _refuse(message: str, code: ErrorCode, path: str) -> ProtocolError:
    return ProtocolError(message, code=code, path=path)


@dataclass(frozen=True, slots=True)
class Line:
    index: int
    item: Row
    count: int


@dataclass(frozen=True, slots=True)
class Selection:
    """An order read from a request and checked against the catalog."""

    provider: Row
    lines: list[Line]
    fulfillment: Row | None
    fulfillment_request: dict[str, Any] | None
    locations: list[Row]


@dataclass(frozen=True, slots=True)
class Quote:
    document: dict[str, Any]
    lines: list[repo.OrderLine]
    total: Decimal


class SellerService:
    def __init__(
        self,
        settings: SellerSettings,
        engine: Engine,
        network: NodeNetwork,
        search: SearchBackend | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.factory = make_session_factory(engine)
        self.network = network
        self.search_backend = search or make_search(engine)

    # --- shared -------------------------------------------------------------------------------

    def callback(self, request: Mapping[str, Any], action: str, message: Any) -> dict[str, Any]:
        """The callback body: the request's context (same transaction and message ids) with
        our identity, the callback's action and a fresh timestamp; checked by its model."""
        context = dict(request["context"])
        context.update(
            action=action,
            bpp_id=self.settings.subscriber_id,
            bpp_uri=self.settings.public_url,
            timestamp=format_datetime(utcnow()),
        )
        body = {"context": context, "message": message}
        ACTION_MODELS[action].model_validate(body)  # our own mistakes must not leave the node
        return body

    def send(self, session: Any, request: Mapping[str, Any], action: str, message: Any) -> None:
        body = self.callback(request, action, message)
        self.network.enqueue(session, request["context"]["bap_uri"], action, body)

    # --- search -------------------------------------------------------------------------------

    def search_query(self, payload: Mapping[str, Any]) -> SearchQuery:
        intent = _get(payload, "message", "intent") or {}
        path = "message.intent"
        text = _get(intent, "item", "descriptor", "name") or _get(intent, "descriptor", "name")
        region_path, region = (
            "context.location.city.code",
            _get(payload, "context", "location", "city", "code"),
        )
        for index, stop in enumerate(_get(intent, "fulfillment", "stops") or []):
            code = _get(stop, "location", "city", "code")
            if _get(stop, "type") == "end" and code:
                region_path = f"{path}.fulfillment.stops[{index}].location.city.code"
                region = code
        tags_path, tags = f"{path}.tags", intent.get("tags")
        if not tags and _get(intent, "item", "tags"):
            tags_path, tags = f"{path}.item.tags", intent["item"]["tags"]
        wanted = parse_item_tags(tags or [], path=tags_path)
        category = _get(intent, "category", "id") or _get(intent, "category", "descriptor", "name")
        return SearchQuery(
            text=text if isinstance(text, str) else None,
            provider_id=_get(intent, "provider", "id"),
            category=category if isinstance(category, str) else None,
            item_id=_get(intent, "item", "id"),
            region=str(parse_region(region, path=region_path)) if region else None,
            certifications=frozenset(c.value for c in wanted.certifications),
            conservation=wanted.conservation.value if wanted.conservation else None,
            limit=self.settings.on_search_max_items,
        )

    def catalog(self, session: Any, query: SearchQuery) -> dict[str, Any]:
        result = self.search_backend.search(session, query)
        found = repo.get_items(session, result.item_ids)
        by_provider: dict[str, list[Row]] = defaultdict(list)
        for row in found:
            by_provider[row["provider_id"]].append(row)
        ids = list(by_provider)
        places: dict[str, list[Row]] = defaultdict(list)
        for row in repo.get_locations(session, ids):
            places[row["provider_id"]].append(row)
        options: dict[str, list[Row]] = defaultdict(list)
        for row in repo.get_fulfillment_options(session, ids):
            options[row["provider_id"]].append(row)
        providers = [
            provider_document(
                provider,
                places[provider["id"]],
                options[provider["id"]],
                by_provider[provider["id"]],
            )
            for provider in repo.get_providers(session, ids)
        ]
        if not result.total:
            summary = "Aucun produit ne correspond à la recherche."
        elif result.left_out:
            summary = (
                f"{len(result.item_ids)} produits affichés sur {result.total} ; "
                "précisez la recherche pour voir les autres."
            )
        else:
            summary = f"{result.total} produit(s) trouvé(s)."
        return {
            "descriptor": {
                "name": self.settings.catalog_name,
                "short_desc": summary,
                "code": f"resultats:{len(result.item_ids)}/{result.total}",
            },
            "providers": providers,
        }

    def handle_search(self, payload: Mapping[str, Any]) -> None:
        query = self.search_query(payload)
        with read_session(self.factory) as session:
            catalog = self.catalog(session, query)
        with write_session(self.factory) as session:
            self.send(session, payload, "on_search", {"catalog": catalog})

    # --- reading an order ---------------------------------------------------------------------

    def read_order(
        self, session: Any, payload: Mapping[str, Any], *, complete: bool = False
    ) -> Selection:
        """The order of a select/init/confirm, checked line by line against the catalog.

        ``complete``: a fulfilment must be chosen (init, confirm).
        """
        path = "message.order"
        order = _get(payload, "message", "order") or {}
        provider_id = _get(order, "provider", "id")
        if not isinstance(provider_id, str) or not provider_id:
            raise _refuse(
                "Indiquez le pôle (provider.id).", ErrorCode.INVALID_REQUEST, f"{path}.provider.id"
            )
        provider = repo.get_provider(session, provider_id)
        if provider is None:
            raise _refuse(
                f"Pôle inconnu : « {provider_id[:40]} ».",
                ErrorCode.PROVIDER_NOT_FOUND,
                f"{path}.provider.id",
            )
        wanted = order.get("items")
        if not isinstance(wanted, list) or not wanted:
            raise _refuse(
                "La commande ne contient aucun article.", ErrorCode.INVALID_REQUEST, f"{path}.items"
            )
        counts: list[tuple[int, str, int]] = []
        seen: set[str] = set()
        for index, item in enumerate(wanted):
            at = f"{path}.items[{index}]"
            sku = _get(item, "id")
            if not isinstance(sku, str) or not sku:
                raise _refuse("Article sans identifiant.", ErrorCode.INVALID_REQUEST, f"{at}.id")
            if sku in seen:
                raise _refuse(
                    f"Article « {sku[:40]} » présent deux fois ; une ligne par article.",
                    ErrorCode.INVALID_REQUEST,
                    f"{at}.id",
                )
            seen.add(sku)
            count = _get(item, "quantity", "selected", "count")
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise _refuse(
                    "Quantité demandée manquante ou invalide (entier ≥ 1).",
                    ErrorCode.INVALID_REQUEST,
                    f"{at}.quantity.selected.count",
                )
            counts.append((index, sku, count))
        rows = repo.get_items_by_sku(session, provider_id, seen)
        lines: list[Line] = []
        for index, sku, count in counts:
            at = f"{path}.items[{index}]"
            row = rows.get(sku)
            if row is None:
                raise _refuse(
                    f"Article inconnu chez {provider['name']} : « {sku[:40]} ».",
                    ErrorCode.ITEM_NOT_FOUND,
                    f"{at}.id",
                )
            unit = Unit(row["unit"]).label
            if count < row["minimum_quantity"]:
                raise _refuse(
                    f"Commande minimale de « {row['name']} » : {row['minimum_quantity']} "
                    f"(demandé : {count}).",
                    ErrorCode.BELOW_MINIMUM_ORDER,
                    f"{at}.quantity.selected.count",
                )
            if row["maximum_quantity"] and count > row["maximum_quantity"]:
                raise _refuse(
                    f"Commande maximale de « {row['name']} » : {row['maximum_quantity']} "
                    f"(demandé : {count}).",
                    ErrorCode.QUANTITY_UNAVAILABLE,
                    f"{at}.quantity.selected.count",
                )
            if count > row["available"]:
                raise quantity_unavailable(row, count, index, unit)
            lines.append(Line(index, row, count))
        locations = repo.get_locations(session, [provider_id])
        fulfillment, requested = self._fulfillment(session, provider, order, lines, complete)
        return Selection(provider, lines, fulfillment, requested, locations)

    def _fulfillment(
        self,
        session: Any,
        provider: Row,
        order: Mapping[str, Any],
        lines: Sequence[Line],
        complete: bool,
    ) -> tuple[Row | None, dict[str, Any] | None]:
        path = "message.order.fulfillments[0]"
        requested = _get(order, "fulfillments", 0)
        options = repo.get_fulfillment_options(session, [provider["id"]])
        if not isinstance(requested, dict) or not (requested.get("id") or requested.get("type")):
            if complete:
                raise _refuse(
                    "Choisissez un mode d'exécution (livraison, cueillette ou point de chute) "
                    "parmi ceux du pôle.",
                    ErrorCode.FULFILLMENT_UNAVAILABLE,
                    path,
                )
            return None, None
        if requested.get("id"):
            option = next((o for o in options if o["id"] == requested["id"]), None)
            where = f"{path}.id"
        else:
            option = next((o for o in options if o["type"] == requested["type"]), None)
            where = f"{path}.type"
        if option is None:
            raise _refuse(
                f"Mode d'exécution non offert par {provider['name']}.",
                ErrorCode.FULFILLMENT_UNAVAILABLE,
                where,
            )
        if option["type"] == FulfillmentType.LIVRAISON.value:
            served = repo.split_codes(option["regions"])
            for index, stop in enumerate(requested.get("stops") or []):
                code = _get(stop, "location", "city", "code")
                if _get(stop, "type") != "end" or not code:
                    continue
                at = f"{path}.stops[{index}].location.city.code"
                region = str(parse_region(code, path=at))
                if served and "*" not in served and region not in served:
                    raise _refuse(
                        f"{option['name']} ne dessert pas la région {region}.",
                        ErrorCode.DELIVERY_NOT_SERVICEABLE,
                        at,
                    )
        for line in lines:
            if not keeps(option, line.item["conservation"]):
                raise _refuse(
                    f"« {line.item['name']} » exige la chaîne de froid, que "
                    f"« {option['name']} » ne maintient pas.",
                    ErrorCode.COLD_CHAIN_REQUIRED,
                    f"message.order.items[{line.index}].id",
                )
        return option, requested

    # --- quotes and order documents -----------------------------------------------------------

    def quote(self, selection: Selection) -> Quote:
        breakup: list[dict[str, Any]] = []
        lines: list[repo.OrderLine] = []
        taxed = []
        for line in selection.lines:
            row = line.item
            amount = line_amount(row["price"], line.count)
            taxes = line_taxes(amount, taxable=bool(row["taxable"]))
            taxed.append(taxes)
            lines.append(
                repo.OrderLine(
                    row["id"],
                    row["sku"],
                    row["name"],
                    line.count,
                    row["price"],
                    amount,
                    taxes.tps,
                    taxes.tvq,
                )
            )
            breakup.append(
                {
                    "item": {
                        "id": row["sku"],
                        "quantity": {"selected": {"count": line.count}},
                        "price": cad(row["price"]),
                        "tags": [
                            tag_group(
                                "taxes_ligne",
                                [
                                    tag("taxable", "oui" if taxes.taxable else "non"),
                                    tag("tps", format_amount(taxes.tps), name=TPS_LABEL),
                                    tag("tvq", format_amount(taxes.tvq), name=TVQ_LABEL),
                                ],
                                name="Taxes de la ligne",
                            )
                        ],
                    },
                    "title": f"{row['name']} × {line.count}",
                    "price": cad(amount),
                }
            )
        option = selection.fulfillment
        if option is not None and option["fee"]:
            fee = line_taxes(option["fee"], taxable=bool(option["fee_taxable"]))
            taxed.append(fee)
            breakup.append({"title": option["name"], "price": cad(fee.amount)})
        summary = order_taxes(taxed)
        breakup.append({"title": TPS_LABEL, "price": cad(summary.tps)})
        breakup.append({"title": TVQ_LABEL, "price": cad(summary.tvq)})
        document = {
            "id": str(uuid.uuid4()),
            "price": cad(summary.total),
            "breakup": breakup,
            "ttl": self.settings.quote_ttl,
        }
        return Quote(document, lines, summary.total)

    def order_document(self, selection: Selection, quote: Quote) -> dict[str, Any]:
        fulfillment_ids = [selection.fulfillment["id"]] if selection.fulfillment else []
        items = []
        for line in selection.lines:
            item: dict[str, Any] = {
                "id": line.item["sku"],
                "quantity": {"selected": {"count": line.count}},
                "price": cad(line.item["price"]),
            }
            if fulfillment_ids:
                item["fulfillment_ids"] = fulfillment_ids
            items.append(item)
        order: dict[str, Any] = {"provider": {"id": selection.provider["id"]}, "items": items}
        if selection.fulfillment is not None:
            places = {row["id"]: row for row in selection.locations}
            document = fulfillment_document(selection.fulfillment, places)
            stops = list(document.get("stops", []))
            for stop in (selection.fulfillment_request or {}).get("stops") or []:
                if isinstance(stop, dict) and stop.get("type") == "end":
                    stops.append(stop)
            if stops:
                document["stops"] = stops
            order["fulfillments"] = [document]
        order["quote"] = quote.document
        return order

    def _payment(
        self, selection: Selection, payload: Mapping[str, Any], quote: Quote
    ) -> dict[str, Any]:
        at = "message.order.payments[0].type"
        wanted = _get(payload, "message", "order", "payments", 0, "type")
        terms = payment_terms(selection.provider, wanted if isinstance(wanted, str) else None)
        if terms is None:
            accepted = ", ".join(repo.split_codes(selection.provider["payment_types"]))
            raise _refuse(
                f"Mode de paiement non accepté par {selection.provider['name']} "
                f"(acceptés : {accepted}).",
                ErrorCode.PAYMENT_NOT_SUPPORTED,
                at,
            )
        document: dict[str, Any] = {
            "id": f"paiement-{terms.type.value.lower()}",
            "type": terms.type.value,
            "status": "NOT-PAID",
            "collected_by": "BPP",
            "params": {"amount": format_amount(quote.total), "currency": "CAD"},
        }
        group = payment_terms_group(terms)
        if group is not None:
            document["tags"] = [group]
        if terms.net_days is not None:
            document["time"] = {"label": "net", "duration": f"P{terms.net_days}D"}
        return document

    def initialized_order(
        self, session: Any, payload: Mapping[str, Any]
    ) -> tuple[Selection, Quote, dict[str, Any]]:
        """What init and confirm share: the complete order with billing, payment, terms."""
        billing = _get(payload, "message", "order", "billing")
        if not isinstance(billing, dict) or not billing.get("name"):
            raise _refuse(
                "Indiquez à qui facturer (billing.name, adresse, courriel).",
                ErrorCode.INVALID_REQUEST,
                "message.order.billing",
            )
        selection = self.read_order(session, payload, complete=True)
        quote = self.quote(selection)
        order = self.order_document(selection, quote)
        order["billing"] = billing
        order["payments"] = [self._payment(selection, payload, quote)]
        assert selection.fulfillment is not None
        order["cancellation_terms"] = cancellation_terms(
            FulfillmentType(selection.fulfillment["type"]),
            fee_percentage=selection.provider["cancellation_fee_percentage"],
        )
        return selection, quote, order

    # --- select, init, confirm, status --------------------------------------------------------

    def handle_select(self, payload: Mapping[str, Any]) -> None:
        with read_session(self.factory) as session:
            selection = self.read_order(session, payload)
            quote = self.quote(selection)
            order = self.order_document(selection, quote)
        with write_session(self.factory) as session:
            self.send(session, payload, "on_select", {"order": order})

    def handle_init(self, payload: Mapping[str, Any]) -> None:
        with read_session(self.factory) as session:
            _selection, _quote, order = self.initialized_order(session, payload)
        with write_session(self.factory) as session:
            self.send(session, payload, "on_init", {"order": order})

    def handle_confirm(self, payload: Mapping[str, Any]) -> str:
        """Create the order, take its stock, send on_confirm: one transaction. Returns the
        order id; a second confirm of the same transaction gets the same order again."""
        try:
            return self._confirm(payload)
        except IntegrityError:
            # A concurrent confirm of the same transaction won the unique (bap_id,
            # transaction_id): ours rolled back, and now finds that order.
            return self._confirm(payload)

    def _confirm(self, payload: Mapping[str, Any]) -> str:
        context = payload["context"]
        try:
            with write_session(self.factory) as session:
                existing = repo.find_order_by_transaction(
                    session, context["bap_id"], context["transaction_id"]
                )
                if existing is not None:
                    self.send(session, payload, "on_confirm", {"order": existing["document"]})
                    return str(existing["id"])
                selection, quote, order = self.initialized_order(session, payload)
                for line in sorted(selection.lines, key=lambda line: line.item["id"]):
                    if not repo.take_stock(session, line.item["id"], line.count):
                        raise _OutOfStock(line)
                now = utcnow()
                order_id = new_order_id(now)
                assert selection.fulfillment is not None
                state = FulfillmentState.PENDING.value
                order = {"id": order_id, "status": "ACTIVE", **order}
                order["fulfillments"][0]["state"] = {
                    "descriptor": {"code": state},
                    "updated_at": format_datetime(now),
                    "updated_by": self.settings.subscriber_id,
                }
                order["created_at"] = order["updated_at"] = format_datetime(now)
                repo.insert_order(
                    session,
                    {
                        "id": order_id,
                        "provider_id": selection.provider["id"],
                        "bap_id": context["bap_id"],
                        "bap_uri": context["bap_uri"],
                        "transaction_id": context["transaction_id"],
                        "status": "ACTIVE",
                        "fulfillment_id": selection.fulfillment["id"],
                        "fulfillment_type": selection.fulfillment["type"],
                        "fulfillment_state": state,
                        "payment_type": order["payments"][0]["type"],
                        "total": quote.total,
                        "document": order,
                    },
                    quote.lines,
                    now,
                )
                repo.add_event(
                    session, order_id, "confirmed", {"message_id": context["message_id"]}
                )
                self.send(session, payload, "on_confirm", {"order": order})
                return order_id
        except _OutOfStock as exc:
            # Rolled back: nothing was taken. Tell the buyer what is left now.
            with read_session(self.factory) as session:
                left = repo.available(session, exc.line.item["id"])
            row = dict(exc.line.item, available=left)
            raise quantity_unavailable(
                row, exc.line.count, exc.line.index, Unit(row["unit"]).label
            ) from None

    def handle_status(self, payload: Mapping[str, Any]) -> None:
        order_id = _get(payload, "message", "order_id")
        with read_session(self.factory) as session:
            row = repo.find_order(session, order_id) if isinstance(order_id, str) else None
        if row is None or row["bap_id"] != payload["context"].get("bap_id"):
            raise _refuse(
                f"Commande inconnue : « {str(order_id)[:40]} ».",
                ErrorCode.ORDER_NOT_FOUND,
                "message.order_id",
            )
        with write_session(self.factory) as session:
            self.send(session, payload, "on_status", {"order": current_document(row)})


class _OutOfStock(Exception):
    def __init__(self, line: Line) -> None:
        super().__init__(line.item["sku"])
        self.line = line


def quantity_unavailable(row: Row, count: int, index: int, unit: str) -> ProtocolError:
    left = max(int(row["available"]), 0)
    return _refuse(
        f"Quantité non disponible : il reste {left} {unit}(s) de « {row['name']} » "
        f"(demandé : {count}).",
        ErrorCode.QUANTITY_UNAVAILABLE,
        f"message.order.items[{index}].quantity.selected.count",
    )


def new_order_id(now: datetime) -> str:
    """``CMD-20261126-3F9A1C07B2D4``: the day, then 48 random bits (unique by primary key)."""
    return f"CMD-{now:%Y%m%d}-{secrets.token_hex(6).upper()}"


def current_document(row: Row) -> dict[str, Any]:
    """The stored order with its current status and fulfilment state written back in."""
    document = dict(row["document"])
    document["status"] = row["status"]
    document["updated_at"] = format_datetime(row["updated_at"])
    fulfillments = [dict(f) for f in document.get("fulfillments") or []]
    for fulfillment in fulfillments:
        if fulfillment.get("id") == row["fulfillment_id"]:
            state = dict(fulfillment.get("state") or {})
            state["descriptor"] = {"code": row["fulfillment_state"]}
            fulfillment["state"] = state
    document["fulfillments"] = fulfillments
    return document
