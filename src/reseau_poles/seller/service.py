"""What the seller node does with each Beckn action: the logic between routes and SQL.

Each ``handle_*`` method reads the verified request, checks it against the catalog and
stock, and writes the callback into the outbox in the same transaction as any state change
(``NodeNetwork.enqueue``), with the pôle's webhook events (:mod:`reseau_poles.node.webhooks`).
It raises :class:`ProtocolError` (code and JSON path) for a request it refuses.

Refusals reach the buyer in one of two ways (:meth:`SellerService.answering`, see
seller_node/README.md): a request that is malformed, unsigned or stale (30000, 30016, 30022)
or that skips a step of its transaction (40001, :class:`OutOfSequence`: init without select,
confirm without init) gets a NACK and no callback; a well-formed request the pôle cannot satisfy (unknown item or
order, no stock, minimum, illegal life-cycle step …) gets an ACK, then its ``on_<action>``
carrying ``error`` (code, paths, message), as ONDC does for 40002.

After confirm, the pôle moves the fulfilment through the management API
(:meth:`SellerService.advance_fulfillment`, :meth:`SellerService.seller_cancel`): each change
is an event row, an unsolicited ``on_status`` (same transaction id, new message id) and a
webhook event, in one transaction. Every life-cycle rule is the protocol core's
:class:`~reseau_poles.protocol.lifecycle.OrderLifecycle`.

Methods are synchronous (SQLAlchemy sessions); routes run them in a worker thread and wake
the outbox worker afterwards.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from reseau_poles.network import InboundMessage, NodeNetwork
from reseau_poles.network.destinations import DestinationPolicy
from reseau_poles.node.webhooks import Webhooks
from reseau_poles.protocol.errors import ErrorCode, LifecycleError, ProtocolError
from reseau_poles.protocol.lifecycle import (
    Action,
    Canceller,
    Phase,
    cancellation_terms,
    check_action,
)
from reseau_poles.protocol.models import ACTION_MODELS, format_datetime
from reseau_poles.protocol.profile import (
    TPS_LABEL,
    TVQ_LABEL,
    DeliveryRules,
    FulfillmentState,
    FulfillmentType,
    Page,
    ProviderResults,
    QuantityRules,
    Unit,
    check_count,
    check_window,
    format_amount,
    line_amount,
    line_taxes,
    order_taxes,
    parse_item_tags,
    parse_page,
    parse_purchase_order,
    parse_region,
    payment_terms_group,
    purchase_order_group,
    tag,
    tag_group,
    unavailable_text,
)
from reseau_poles.storage import make_session_factory, read_session, utcnow, write_session
from reseau_poles.storage.engine import SQLITE_IMMEDIATE

from . import orders as order_repo
from . import repository as repo
from . import tables, transactions
from .catalog import (
    CatalogDocuments,
    cad,
    delivery_rules,
    fulfillment_document,
    keeps,
    payment_terms,
    to_json,
)
from .order_view import end_stop, order_columns, order_view
from .search import SearchBackend, SearchQuery, make_search
from .services.webhooks import SELLER_EVENTS
from .settings import SellerSettings
from .stock_movements import Reason

Row = Mapping[str, Any]

# Refused by NACK: the request itself is at fault. Anything else: ACK, then on_<action> + error.
NACK_CODES: Final = frozenset(
    {ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_SIGNATURE, ErrorCode.STALE_REQUEST}
)
CENT = Decimal("0.01")


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


def check_windows(requested: Any, rules: DeliveryRules, path: str) -> None:
    """Each delivery window of the requested fulfilment (``stops[].time.range``) against the
    option's declared rules; a window refused is the request's fault (30000, a NACK with the
    path of the bound at fault): the seller node checks whatever the buyer's app checked."""
    stops = _get(requested, "stops")
    for index, stop in enumerate(stops if isinstance(stops, list) else []):
        window = _get(stop, "time", "range")
        if window is None:
            continue
        at = f"{path}.stops[{index}].time.range"
        if not isinstance(window, dict):
            raise _refuse("Plage de livraison illisible.", ErrorCode.INVALID_REQUEST, at)
        check_window(
            window.get("start"),
            window.get("end"),
            now=utcnow(),
            rules=rules,
            start_path=f"{at}.start",
            end_path=f"{at}.end",
        )


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
        self.documents = CatalogDocuments()
        self.webhooks = Webhooks(
            tables.webhooks,
            SELLER_EVENTS,
            DestinationPolicy.from_settings(settings),
            key_dir=settings.key_dir,
        )
        self.webhooks.install(network, engine)

    # --- shared -------------------------------------------------------------------------------

    def callback(
        self,
        request: Mapping[str, Any],
        action: str,
        message: Any,
        error: ProtocolError | None = None,
        *,
        check: bool = True,
    ) -> dict[str, Any]:
        """The callback body: the request's context (same transaction and message ids) with
        our identity, the callback's action and a fresh timestamp; checked by its model
        unless ``check`` is false."""
        context = dict(request["context"])
        context.update(
            action=action,
            bpp_id=self.settings.subscriber_id,
            bpp_uri=self.settings.public_url,
            timestamp=format_datetime(utcnow()),
        )
        body: dict[str, Any] = {"context": context}
        if message is not None:
            body["message"] = message
        if error is not None:
            body["error"] = error.to_error()
        if check:
            ACTION_MODELS[action].model_validate(body)  # our own mistakes must not leave
        return body

    def send(
        self,
        session: Any,
        request: Mapping[str, Any],
        action: str,
        message: Any,
        error: ProtocolError | None = None,
        *,
        check: bool = True,
    ) -> None:
        body = self.callback(request, action, message, error, check=check)
        self.network.enqueue(session, request["context"]["bap_uri"], action, body)

    def answering(
        self, action: str, handler: Callable[[Mapping[str, Any]], Any]
    ) -> Callable[[Mapping[str, Any]], Any]:
        """``handler`` as the network calls it: a refusal of a well-formed request becomes
        ``on_<action>`` with ``error`` (after the ACK); a malformed one stays a NACK."""

        def answer(payload: Mapping[str, Any]) -> Any:
            try:
                return handler(payload)
            except ProtocolError as exc:
                if exc.code in NACK_CODES or isinstance(exc, OutOfSequence):
                    raise
                with write_session(self.factory) as session:
                    # on_rating must carry a message, even with an error (Beckn 1.1).
                    message = {} if action == "rating" else None
                    self.send(session, payload, f"on_{action}", message, exc)
                return None

        return answer

    def notify(self, session: Any, order: Row, action: str, message: Any) -> str:
        """An unsolicited callback about ``order``: its transaction id, a new message id, the
        confirm's context otherwise. Returns the message id."""
        context = dict(order.get("context") or {})
        context.setdefault("domain", "PLA:ALIMENTS")
        context.setdefault("location", {"city": {"code": "*"}, "country": {"code": "CAN"}})
        context.setdefault("ttl", "PT30S")
        message_id = str(uuid.uuid4())
        context.update(
            version="1.1.0",
            bap_id=order["bap_id"],
            bap_uri=order["bap_uri"],
            transaction_id=order["transaction_id"],
            message_id=message_id,
        )
        self.send(session, {"context": context}, action, message)
        return message_id

    def emit(self, session: Any, about: Row, event_type: str, /, **data: Any) -> None:
        """A webhook event about an order to its pôle's subscriptions, in this transaction:
        the order's id, its purchase-order number, buyer and delivery (``order_view``), and
        ``data``."""
        document = data.get("order") or about.get("document") or {}
        self.webhooks.emit(
            session,
            self.network,
            about["provider_id"],
            event_type,
            {"order_id": about["id"], **order_view(document), **data},
            transaction_id=about["transaction_id"],
        )

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
        page = parse_page(intent.get("tags") or [], path=f"{path}.tags") or Page()
        limit = self.settings.on_search_max_items
        if page.start and not _get(intent, "provider", "id"):
            raise _refuse(
                "La pagination (groupe « pagination », debut > 0) se demande pour un pôle : "
                "indiquez provider.id.",
                ErrorCode.INVALID_REQUEST,
                f"{path}.provider.id",
            )
        category = _get(intent, "category", "id") or _get(intent, "category", "descriptor", "name")
        return SearchQuery(
            text=text if isinstance(text, str) else None,
            provider_id=_get(intent, "provider", "id"),
            category=category if isinstance(category, str) else None,
            item_id=_get(intent, "item", "id"),
            region=str(parse_region(region, path=region_path)) if region else None,
            certifications=frozenset(c.value for c in wanted.certifications),
            conservation=wanted.conservation.value if wanted.conservation else None,
            limit=min(page.size or limit, limit),
            offset=page.start,
        )

    def catalog(self, session: Any, query: SearchQuery) -> dict[str, Any]:
        """The ``catalog`` of the ``on_search`` answering ``query``."""
        return json.loads(self.catalog_json(session, query))

    def catalog_json(self, session: Any, query: SearchQuery) -> str:
        """:meth:`catalog` as compact JSON text, from documents rendered once per content
        (:class:`~.catalog.CatalogDocuments`): what :meth:`handle_search` sends."""
        result = self.search_backend.search(session, query)
        found = result.rows if result.rows is not None else repo.get_items(session, result.item_ids)
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
                repo.get_profiles(session, list(by_provider)) if by_provider else [],
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
            self.engine.connect().execution_options(**{SQLITE_IMMEDIATE: True}) as connection,
            connection.begin(),
        ):
            self.network.enqueue(
                connection,
                payload["context"]["bap_uri"],
                "on_search",
                body.encode("utf-8"),
                message_id=ids[0] if isinstance(ids[0], str) else None,
                transaction_id=ids[1] if isinstance(ids[1], str) else None,
            )

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
            count = check_count(
                _get(item, "quantity", "selected", "count"), path=f"{at}.quantity.selected.count"
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
            check_count(count, quantity_rules(row), path=f"{at}.quantity.selected.count")
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
            check_windows(requested, DeliveryRules(), path)
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
        check_windows(requested, delivery_rules(option), path)
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
        assert selection.fulfillment is not None
        minimum = selection.fulfillment.get("minimum_order")
        subtotal = sum((line.amount for line in quote.lines), Decimal(0))
        if minimum is not None and subtotal < minimum:
            raise _refuse(
                f"Commande minimale de {format_amount(minimum)} $ pour "
                f"« {selection.fulfillment['name']} » (articles avant taxes : "
                f"{format_amount(subtotal)} $).",
                ErrorCode.BELOW_MINIMUM_ORDER,
                "message.order.items",
            )
        order = self.order_document(selection, quote)
        order["billing"] = billing
        order["payments"] = [self._payment(selection, payload, quote)]
        number = parse_purchase_order(
            _get(payload, "message", "order", "tags"), path="message.order.tags"
        )
        if number is not None:
            order["tags"] = [purchase_order_group(number)]
        assert selection.fulfillment is not None
        order["cancellation_terms"] = cancellation_terms(
            FulfillmentType(selection.fulfillment["type"]),
            fee_percentage=selection.provider["cancellation_fee_percentage"],
        )
        return selection, quote, order

    # --- select, init, confirm, status --------------------------------------------------------

    def in_sequence(self, session: Any, payload: Mapping[str, Any], action: Action) -> Phase:
        """The phase ``action`` leads the transaction to, from the one select and init
        recorded (:mod:`.transactions`); :class:`OutOfSequence` (a NACK naming the missing
        step) when the life cycle does not allow it: init without a quote, confirm without
        terms. Checked once the request's content passed (its own refusals come first)."""
        context = payload["context"]
        bap_id, transaction_id = context.get("bap_id"), context.get("transaction_id")
        if not isinstance(transaction_id, str) or not transaction_id:
            raise _refuse(
                "Indiquez la transaction (context.transaction_id) : un devis, ses conditions "
                "et la commande la partagent.",
                ErrorCode.INVALID_REQUEST,
                "context.transaction_id",
            )
        phase = transactions.phase_of(session, str(bap_id), transaction_id)
        try:
            return check_action(phase, action, path="context.action")
        except LifecycleError as exc:
            raise OutOfSequence(
                f"{exc.message.rstrip('.')} (transaction « {transaction_id[:64]} »).",
                code=exc.code,
                path="context.action",
            ) from None

    def _record(self, session: Any, payload: Mapping[str, Any], phase: Phase) -> None:
        context = payload["context"]
        transactions.record(session, context["bap_id"], context["transaction_id"], phase)

    def handle_select(self, payload: Mapping[str, Any]) -> None:
        with read_session(self.factory) as session:
            selection = self.read_order(session, payload)
            quote = self.quote(selection)
            order = self.order_document(selection, quote)
            phase = self.in_sequence(session, payload, Action.SELECT)
        with write_session(self.factory) as session:
            self._record(session, payload, phase)
            self.send(session, payload, "on_select", {"order": order})

    def handle_init(self, payload: Mapping[str, Any]) -> None:
        with read_session(self.factory) as session:
            _selection, _quote, order = self.initialized_order(session, payload)
            phase = self.in_sequence(session, payload, Action.INIT)
        with write_session(self.factory) as session:
            self._record(session, payload, phase)
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
                self.in_sequence(session, payload, Action.CONFIRM)
                now = utcnow()
                order_id = new_order_id(now)
                for line in sorted(selection.lines, key=lambda line: line.item["id"]):
                    if not repo.take_stock(
                        session, line.item["id"], line.count, reference=order_id
                    ):
                        raise _OutOfStock(line)
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
                        **order_columns(order),
                        "context": {
                            key: context[key]
                            for key in ("domain", "location", "version", "ttl")
                            if key in context
                        },
                    },
                    quote.lines,
                    now,
                )
                repo.add_event(
                    session, order_id, "confirmed", {"message_id": context["message_id"]}
                )
                transactions.forget(session, context["bap_id"], context["transaction_id"])
                self.send(session, payload, "on_confirm", {"order": order})
                self.emit(
                    session,
                    {"id": order_id, "provider_id": selection.provider["id"], **context},
                    "order.confirmed",
                    order=order,
                )
                return order_id
        except _OutOfStock as exc:
            # Rolled back: nothing was taken. Tell the buyer what is left now.
            with read_session(self.factory) as session:
                left = repo.available(session, exc.line.item["id"])
            row = dict(exc.line.item, available=left)
            raise quantity_unavailable(row, exc.line.count, exc.line.index) from None

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

    # --- after confirm: the buyer's requests ---------------------------------------------------

    def _buyers_order(
        self, session: Any, payload: Mapping[str, Any], order_id: Any, path: str, *, lock: bool
    ) -> Row:
        """The buyer's own order (``FOR UPDATE`` when ``lock``), or 30018 at ``path``."""
        row = None
        if isinstance(order_id, str) and order_id:
            row = (
                order_repo.lock_order(session, order_id)
                if lock
                else repo.find_order(session, order_id)
            )
        if row is None or row["bap_id"] != payload["context"].get("bap_id"):
            raise _refuse(
                f"Commande inconnue : « {str(order_id)[:40]} ».", ErrorCode.ORDER_NOT_FOUND, path
            )
        return row

    def handle_track(self, payload: Mapping[str, Any]) -> None:
        at = "message.order_id"
        with write_session(self.factory) as session:
            row = self._buyers_order(
                session, payload, _get(payload, "message", "order_id"), at, lock=False
            )
            order_repo.lifecycle_of(row).check("track", path=at)
            if row["fulfillment_state"] != FulfillmentState.OUT_FOR_DELIVERY.value:
                state = FulfillmentState(row["fulfillment_state"])
                raise _refuse(
                    "Suivi offert seulement pendant la livraison (« Out-for-delivery ») ; "
                    f"la commande est à l'étape « {state.value} ».",
                    ErrorCode.TRACKING_NOT_ENABLED,
                    at,
                )
            tracking: dict[str, Any] = {"id": row["fulfillment_id"], "status": "active"}
            if row["tracking_url"]:
                tracking["url"] = row["tracking_url"]
            self.send(session, payload, "on_track", {"tracking": tracking})

    def handle_cancel(self, payload: Mapping[str, Any]) -> None:
        at = "message.order_id"
        reason = _get(payload, "message", "cancellation_reason_id")
        if reason is not None and (not isinstance(reason, str) or not 0 < len(reason) <= 64):
            raise _refuse(
                "Motif d'annulation invalide (code de 1 à 64 caractères).",
                ErrorCode.INVALID_CANCELLATION_REASON,
                "message.cancellation_reason_id",
            )
        with write_session(self.factory) as session:
            row = self._buyers_order(
                session, payload, _get(payload, "message", "order_id"), at, lock=True
            )
            lifecycle = order_repo.lifecycle_of(row)
            lifecycle.receive("cancel", path=at)  # the buyer's cancellation terms
            fee = Decimal(0)
            if lifecycle.cancellation_fee_applies:
                provider = repo.get_provider(session, row["provider_id"])
                assert provider is not None
                percentage = Decimal(provider["cancellation_fee_percentage"])
                fee = (Decimal(row["total"]) * percentage / 100).quantize(CENT, ROUND_HALF_UP)
            order = self._cancel(session, row, Canceller.BUYER, reason or "acheteur", fee)
            self.send(session, payload, "on_cancel", {"order": current_document(order)})

    def _cancel(
        self, session: Any, row: Row, by: Canceller, reason: str, fee: Decimal, note: str = ""
    ) -> Row:
        """Cancel a locked order: restock every line, record it, tell the pôle's software.
        The caller sends the callback."""
        restocked = order_repo.restock(session, row["id"])
        now = utcnow()
        document = current_document(row)
        document["cancellation"] = {
            "time": format_datetime(now),
            "cancelled_by": "CONSUMER" if by is Canceller.BUYER else "PROVIDER",
            "reason": {"id": reason},
        }
        if note:
            document["cancellation"]["additional_description"] = {"short_desc": note[:255]}
        quote = dict(document.get("quote") or {})
        quote["price"] = cad(fee)
        quote["breakup"] = [{"title": "Frais d'annulation", "price": cad(fee)}]
        document["quote"] = quote
        for payment in document.get("payments") or []:
            payment.setdefault("params", {})["amount"] = format_amount(fee)
        document["status"] = "CANCELLED"
        _set_state(document, row["fulfillment_id"], FulfillmentState.CANCELLED.value, now, self)
        order_repo.update_order(
            session,
            row["id"],
            status="CANCELLED",
            fulfillment_state=FulfillmentState.CANCELLED.value,
            cancelled_by=by.value,
            cancellation_reason=reason,
            cancellation_fee=fee,
            document=document,
            updated_at=now,
        )
        detail = {"by": by.value, "reason": reason, "fee": format_amount(fee), "restock": restocked}
        if note:
            detail["note"] = note
        order_repo.add_event(session, row["id"], "cancelled", detail)
        order = order_repo.lock_order(session, row["id"])
        assert order is not None
        self.emit(
            session,
            order,
            "order.cancelled",
            cancelled_by=by.value,
            reason=reason,
            fee=format_amount(fee),
            restocked=restocked,
            order=current_document(order),
        )
        return order

    def handle_update(self, payload: Mapping[str, Any]) -> None:
        target = _get(payload, "message", "update_target")
        wanted = _get(payload, "message", "order") or {}
        with write_session(self.factory) as session:
            row = self._buyers_order(
                session, payload, wanted.get("id"), "message.order.id", lock=True
            )
            lifecycle = order_repo.lifecycle_of(row)
            lifecycle.check("update", update_target=target, path="message.update_target")
            text = str(target).casefold()
            if "item" in text:
                order, detail = self._update_items(session, row, wanted)
            elif "fulfil" in text:
                order, detail = self._update_fulfillment(session, row, wanted, lifecycle)
            elif "billing" in text or "payment" in text:
                order, detail = self._update_billing(session, row, wanted)
            else:
                raise _refuse(
                    "Cible de modification non prise en charge : « order.items », "
                    "« order.fulfillments » ou « order.billing ».",
                    ErrorCode.INVALID_REQUEST,
                    "message.update_target",
                )
            order_repo.add_event(session, row["id"], "updated", {"target": target, **detail})
            document = current_document(order)
            self.emit(session, order, "order.updated", target=target, order=document, **detail)
            self.send(session, payload, "on_update", {"order": document})

    def _agreed_selection(
        self,
        session: Any,
        row: Row,
        counts: Mapping[str, int],
        option: Row | None = None,
        requested: Mapping[str, Any] | None = None,
    ) -> tuple[Selection, Quote]:
        """The order's lines at their agreed prices with new counts (and fulfilment)."""
        provider = repo.get_provider(session, row["provider_id"])
        assert provider is not None
        agreed = {line["sku"]: line for line in order_repo.lines_of(session, row["id"])}
        rows = repo.get_items_by_sku(session, row["provider_id"], set(counts))
        lines = [
            Line(index, {**rows[sku], "price": agreed[sku]["unit_price"]}, count)
            for index, (sku, count) in enumerate(counts.items())
            if count > 0
        ]
        if option is None:
            option = next(
                o
                for o in repo.get_fulfillment_options(session, [row["provider_id"]])
                if o["id"] == row["fulfillment_id"]
            )
        if requested is None:
            stops = _get(row["document"], "fulfillments", 0, "stops") or []
            requested = {"stops": [s for s in stops if _get(s, "type") == "end"]}
        locations = repo.get_locations(session, [row["provider_id"]])
        selection = Selection(provider, lines, option, dict(requested), locations)
        return selection, self.quote(selection)

    def _rewrite(self, session: Any, row: Row, selection: Selection, quote: Quote) -> Row:
        """Store the order rebuilt from ``selection``: lines, document, total, fulfilment."""
        assert selection.fulfillment is not None
        now = utcnow()
        old = row["document"]
        document = {"id": row["id"], "status": row["status"]}
        document.update(self.order_document(selection, quote))
        document["billing"] = old.get("billing")
        payments = [dict(p) for p in old.get("payments") or []]
        for payment in payments:
            payment["params"] = {
                **(payment.get("params") or {}),
                "amount": format_amount(quote.total),
            }
        document["payments"] = payments
        document["cancellation_terms"] = cancellation_terms(
            FulfillmentType(selection.fulfillment["type"]),
            fee_percentage=selection.provider["cancellation_fee_percentage"],
        )
        document["created_at"] = old.get("created_at")
        if old.get("tags"):
            document["tags"] = old["tags"]
        _set_state(document, selection.fulfillment["id"], row["fulfillment_state"], now, self)
        by_sku = {line.sku: line for line in quote.lines}
        changes = []
        for line in order_repo.lines_of(session, row["id"]):
            new = by_sku.get(line["sku"])
            changes.append(
                order_repo.LineChange(line["line_no"], 0)
                if new is None
                else order_repo.LineChange(
                    line["line_no"], new.quantity, new.amount, new.tps, new.tvq
                )
            )
        order_repo.change_lines(session, row["id"], changes)
        order_repo.update_order(
            session,
            row["id"],
            total=quote.total,
            fulfillment_id=selection.fulfillment["id"],
            fulfillment_type=selection.fulfillment["type"],
            document=document,
            updated_at=now,
            **order_columns(document),
        )
        order = order_repo.lock_order(session, row["id"])
        assert order is not None
        return order

    def _update_items(
        self, session: Any, row: Row, wanted: Mapping[str, Any]
    ) -> tuple[Row, dict[str, Any]]:
        current = {line["sku"]: line for line in order_repo.lines_of(session, row["id"])}
        counts = {sku: int(line["quantity"]) for sku, line in current.items()}
        requested = wanted.get("items")
        if not isinstance(requested, list) or not requested:
            raise _refuse(
                "Indiquez les articles à modifier.",
                ErrorCode.INVALID_REQUEST,
                "message.order.items",
            )
        new: dict[str, tuple[int, int]] = {}
        for index, item in enumerate(requested):
            at = f"message.order.items[{index}]"
            sku = _get(item, "id")
            if not isinstance(sku, str) or sku in new:
                raise _refuse("Article absent ou répété.", ErrorCode.INVALID_REQUEST, f"{at}.id")
            count = check_count(
                _get(item, "quantity", "selected", "count"),
                path=f"{at}.quantity.selected.count",
                removable=True,
            )
            if sku not in current:
                raise _refuse(
                    f"« {sku[:40]} » n'est pas dans cette commande : ajoutez-le par une "
                    "nouvelle commande.",
                    ErrorCode.UPDATE_INCONSISTENCY,
                    f"{at}.id",
                )
            new[sku] = (index, count)
        counts.update({sku: count for sku, (_index, count) in new.items()})
        if not any(counts.values()):
            raise _refuse(
                "Une commande garde au moins un article : pour tout retirer, annulez-la.",
                ErrorCode.UPDATE_INCONSISTENCY,
                "message.order.items",
            )
        rows = repo.get_items_by_sku(session, row["provider_id"], set(new))
        changed: dict[str, dict[str, int]] = {}
        for sku, (index, count) in sorted(new.items(), key=lambda kv: current[kv[0]]["item_id"]):
            line, item = current[sku], rows[sku]
            at = f"message.order.items[{index}].quantity.selected.count"
            held = int(line["quantity"])
            # The same rule as select, init and confirm (minimum, maximum, stock) …
            check_count(count, quantity_rules(item), path=at, held=held, removable=True)
            difference = count - held
            # … and the stock taken by one conditional write: never oversold.
            if difference > 0 and not repo.take_stock(
                session,
                line["item_id"],
                difference,
                reason=Reason.MODIFICATION,
                reference=row["id"],
            ):
                left = repo.available(session, line["item_id"])
                raise _refuse(
                    unavailable_text(quantity_rules(item, left), count, held),
                    ErrorCode.QUANTITY_UNAVAILABLE,
                    at,
                )
            if difference < 0:
                order_repo.give_back(
                    session, line["item_id"], -difference, Reason.MODIFICATION, row["id"]
                )
            if difference:
                changed[sku] = {"from": int(line["quantity"]), "to": count}
        selection, quote = self._agreed_selection(session, row, counts)
        return self._rewrite(session, row, selection, quote), {"items": changed}

    def _update_fulfillment(
        self, session: Any, row: Row, wanted: Mapping[str, Any], lifecycle: Any
    ) -> tuple[Row, dict[str, Any]]:
        provider = repo.get_provider(session, row["provider_id"])
        assert provider is not None
        counts = {
            line["sku"]: int(line["quantity"]) for line in order_repo.lines_of(session, row["id"])
        }
        rows = repo.get_items_by_sku(session, row["provider_id"], set(counts))
        lines = [Line(i, rows[sku], n) for i, (sku, n) in enumerate(counts.items())]
        option, requested = self._fulfillment(session, provider, wanted, lines, True)
        assert option is not None
        # What the update does not say of the delivery (window, site, contact) stays.
        requested = with_end_stop(requested, end_stop(row["document"]))
        path = "message.order.fulfillments[0]"
        # The protocol core decides: a fulfilment changes only while nothing has moved.
        lifecycle.set_fulfillment(row["fulfillment_id"], option["type"], path=path)
        if option["id"] != row["fulfillment_id"] and row["fulfillment_state"] != "Pending":
            raise LifecycleError(
                "L'exécution a déjà commencé : elle ne change plus.",
                code=ErrorCode.UPDATE_NOT_POSSIBLE,
                path=path,
            )
        selection, quote = self._agreed_selection(session, row, counts, option, requested)
        detail = {"fulfillment": {"from": row["fulfillment_id"], "to": option["id"]}}
        return self._rewrite(session, row, selection, quote), detail

    def _update_billing(
        self, session: Any, row: Row, wanted: Mapping[str, Any]
    ) -> tuple[Row, dict[str, Any]]:
        billing = wanted.get("billing")
        if not isinstance(billing, dict) or not billing.get("name"):
            raise _refuse(
                "Indiquez la nouvelle facturation (billing.name …).",
                ErrorCode.INVALID_REQUEST,
                "message.order.billing",
            )
        document = dict(row["document"], billing=billing)
        order_repo.update_order(session, row["id"], document=document)
        order = order_repo.lock_order(session, row["id"])
        assert order is not None
        return order, {"billing": True}

    def began(self, message: InboundMessage) -> datetime | None:
        """When the order of the message's transaction with its sender (the buyer) was
        created here, ``None`` before the confirm. A suspended buyer's requests are taken for
        the orders confirmed before its suspension (``create_node_app``): status, track,
        cancel, update, rating, support; nothing that opens a new one."""
        with read_session(self.factory) as session:
            order = self._transaction_order(session, message.payload)
        return order["created_at"] if order is not None else None

    def _transaction_order(self, session: Any, payload: Mapping[str, Any]) -> Row | None:
        context = payload["context"]
        return repo.find_order_by_transaction(
            session, context.get("bap_id", ""), context.get("transaction_id", "")
        )

    def handle_rating(self, payload: Mapping[str, Any]) -> None:
        ratings = _get(payload, "message", "ratings")
        if not isinstance(ratings, list) or not ratings:
            raise _refuse("Aucune évaluation.", ErrorCode.INVALID_REQUEST, "message.ratings")
        scores = []
        for index, rating in enumerate(ratings):
            try:
                score = Decimal(str(_get(rating, "value")))
            except ArithmeticError:
                score = Decimal(-1)
            if not score.is_finite() or not 1 <= score <= 5:
                raise _refuse(
                    "Note invalide : un nombre de 1 à 5.",
                    ErrorCode.INVALID_RATING_VALUE,
                    f"message.ratings[{index}].value",
                )
            scores.append(
                {
                    "category": _get(rating, "rating_category") or "Order",
                    "id": _get(rating, "id"),
                    "value": format(score.normalize(), "f"),
                }
            )
        with write_session(self.factory) as session:
            row = self._transaction_order(session, payload)
            if row is None:
                by_id = next((s["id"] for s in scores if s["category"] == "Order"), None)
                row = self._buyers_order(session, payload, by_id, "message.ratings", lock=False)
            order_repo.lifecycle_of(row).check("rating", path="context.action")
            order_repo.add_event(session, row["id"], "rating", {"ratings": scores})
            self.emit(session, row, "rating.received", ratings=scores)
            self.send(session, payload, "on_rating", {})

    def handle_support(self, payload: Mapping[str, Any]) -> None:
        ref_id = _get(payload, "message", "support", "ref_id")
        with write_session(self.factory) as session:
            if ref_id:
                row = self._buyers_order(
                    session, payload, ref_id, "message.support.ref_id", lock=False
                )
            else:
                row = self._transaction_order(session, payload)
            provider = repo.get_provider(session, row["provider_id"]) if row else None
            if provider is None or not (provider["phone"] or provider["email"]):
                raise _refuse(
                    "Soutien indisponible : précisez la commande (support.ref_id) d'un pôle "
                    "qui a publié un téléphone ou un courriel.",
                    ErrorCode.SUPPORT_UNAVAILABLE,
                    "message.support.ref_id",
                )
            assert row is not None
            support: dict[str, Any] = {"ref_id": row["id"]}
            if provider["phone"]:
                support["phone"] = provider["phone"]
            if provider["email"]:
                support["email"] = provider["email"]
            order_repo.add_event(session, row["id"], "support", {})
            asked = _get(payload, "message", "support") or {}
            self.emit(
                session,
                row,
                "support.requested",
                callback_phone=asked.get("callback_phone"),
                email=asked.get("email"),
            )
            self.send(session, payload, "on_support", {"support": support})

    # --- after confirm: the pôle's side (management API) ----------------------------------------

    def advance_fulfillment(
        self,
        provider_id: str,
        order_id: str,
        state: str,
        *,
        tracking_url: str | None = None,
        reason: str | None = None,
    ) -> Row | None:
        """Move the order's fulfilment to ``state`` (the protocol core's rules); ``None`` if
        the pôle has no such order. Raises :class:`LifecycleError` for an illegal move."""
        target = FulfillmentState.parse(state, path="state")
        with write_session(self.factory) as session:
            row = order_repo.lock_order(session, order_id)
            if row is None or row["provider_id"] != provider_id:
                return None
            if target is FulfillmentState.CANCELLED:
                order_repo.lifecycle_of(row).cancel(by=Canceller.SELLER, path="state")
                order = self._cancel(session, row, Canceller.SELLER, reason or "pole", Decimal(0))
                self.notify(session, order, "on_status", {"order": current_document(order)})
                return order
            lifecycle = order_repo.lifecycle_of(row)
            events = lifecycle.advance(row["fulfillment_id"], target, path="state")
            if not events and (tracking_url is None or tracking_url == row["tracking_url"]):
                return row  # the same state again: nothing changes, nothing is sent
            now = utcnow()
            status = lifecycle.order_status.value if lifecycle.order_status else row["status"]
            document = current_document(row)
            document["status"] = status
            _set_state(document, row["fulfillment_id"], target.value, now, self)
            order_repo.update_order(
                session,
                order_id,
                status=status,
                fulfillment_state=target.value,
                tracking_url=tracking_url or row["tracking_url"],
                document=document,
                updated_at=now,
            )
            detail: dict[str, Any] = {"from": row["fulfillment_state"], "to": target.value}
            if tracking_url:
                detail["tracking_url"] = tracking_url
            order_repo.add_event(session, order_id, "fulfillment", detail)
            if status != row["status"]:
                order_repo.add_event(session, order_id, "status", {"status": status})
            order = order_repo.lock_order(session, order_id)
            assert order is not None
            document = current_document(order)
            message_id = self.notify(session, order, "on_status", {"order": document})
            self.emit(
                session,
                order,
                "fulfillment.changed",
                previous_state=row["fulfillment_state"],
                state=target.value,
                status=status,
                on_status_message_id=message_id,
                order=document,
            )
            return order

    def seller_cancel(
        self, provider_id: str, order_id: str, reason: str, note: str = ""
    ) -> Row | None:
        """The pôle cancels (stock lost, truck broken down …): no fee, stock restored, an
        unsolicited on_status. ``None`` if the pôle has no such order."""
        with write_session(self.factory) as session:
            row = order_repo.lock_order(session, order_id)
            if row is None or row["provider_id"] != provider_id:
                return None
            order_repo.lifecycle_of(row).cancel(by=Canceller.SELLER, path="reason_code")
            order = self._cancel(session, row, Canceller.SELLER, reason, Decimal(0), note)
            self.notify(session, order, "on_status", {"order": current_document(order)})
            return order


class OutOfSequence(LifecycleError):
    """A step of the transaction the life cycle does not allow yet (init without select,
    confirm without init): the request is at fault, a NACK whose message names the missing
    step."""


class _OutOfStock(Exception):
    def __init__(self, line: Line) -> None:
        super().__init__(line.item["sku"])
        self.line = line


def quantity_rules(row: Row, available: int | None = None) -> QuantityRules:
    """An item row's quantity limits and stock (``available``: read again, after a race)."""
    return QuantityRules(
        name=row["name"],
        unit=Unit(row["unit"]).label,
        minimum=int(row["minimum_quantity"]),
        maximum=row["maximum_quantity"],
        available=int(row["available"] if available is None else available),
    )


def quantity_unavailable(row: Row, count: int, index: int) -> ProtocolError:
    return _refuse(
        unavailable_text(quantity_rules(row), count),
        ErrorCode.QUANTITY_UNAVAILABLE,
        f"message.order.items[{index}].quantity.selected.count",
    )


def new_order_id(now: datetime) -> str:
    """``CMD-20261126-3F9A1C07B2D4``: the day, then 48 random bits (unique by primary key)."""
    return f"CMD-{now:%Y%m%d}-{secrets.token_hex(6).upper()}"


def with_end_stop(requested: Mapping[str, Any] | None, old: Mapping[str, Any]) -> dict[str, Any]:
    """An update's fulfilment request with the order's former ``end`` stop under its own:
    the fields the update gives win, the others (delivery window, site …) are kept."""
    wanted = dict(requested or {})
    if not old:
        return wanted
    stops = [s for s in wanted.get("stops") or [] if isinstance(s, dict)]
    if any(s.get("type") == "end" for s in stops):
        wanted["stops"] = [{**old, **s} if s.get("type") == "end" else s for s in stops]
    else:
        wanted["stops"] = [*stops, dict(old)]
    return wanted


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


def _set_state(
    document: dict[str, Any], fulfillment_id: str, state: str, now: datetime, service: Any
) -> None:
    """Write a fulfilment's state, with when and by whom, into an order document."""
    for fulfillment in document.get("fulfillments") or []:
        if fulfillment.get("id") == fulfillment_id:
            fulfillment["state"] = {
                "descriptor": {"code": state},
                "updated_at": format_datetime(now),
                "updated_by": service.settings.subscriber_id,
            }
