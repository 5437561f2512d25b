"""An order as a buyer asks for it (select, init, confirm) checked line by line against the
catalog, stock, fulfilment options and delivery windows; its quote (lines, taxes, fees) and
the order document with billing, payment and cancellation terms."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from reseau_poles.protocol.errors import ErrorCode, ProtocolError
from reseau_poles.protocol.lifecycle import (
    cancellation_terms,
)
from reseau_poles.protocol.profile import (
    TPS_LABEL,
    TVQ_LABEL,
    DeliveryRules,
    FulfillmentType,
    QuantityRules,
    Unit,
    check_count,
    check_window,
    format_amount,
    line_amount,
    line_taxes,
    order_taxes,
    parse_purchase_order,
    parse_region,
    payment_terms_group,
    purchase_order_group,
    tag,
    tag_group,
    unavailable_text,
)
from reseau_poles.storage import utcnow

from ..repositories import columns as column_repo
from ..repositories import orders as order_repo
from ..repositories import places as place_repo
from ..repositories import products as product_repo
from ..repositories import providers as provider_repo
from .callbacks import ProtocolBase, Row, dig, refuse
from .catalog import (
    cad,
    delivery_rules,
    fulfillment_document,
    keeps,
    payment_terms,
)


def check_windows(requested: Any, rules: DeliveryRules, path: str) -> None:
    """Each delivery window of the requested fulfilment (``stops[].time.range``) against the
    option's declared rules; a window refused is the request's fault (30000, a NACK with the
    path of the bound at fault): the seller node checks whatever the buyer's app checked."""
    stops = dig(requested, "stops")
    for index, stop in enumerate(stops if isinstance(stops, list) else []):
        window = dig(stop, "time", "range")
        if window is None:
            continue
        at = f"{path}.stops[{index}].time.range"
        if not isinstance(window, dict):
            raise refuse("Plage de livraison illisible.", ErrorCode.INVALID_REQUEST, at)
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
    lines: list[order_repo.OrderLine]
    total: Decimal


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
    return refuse(
        unavailable_text(quantity_rules(row), count),
        ErrorCode.QUANTITY_UNAVAILABLE,
        f"message.order.items[{index}].quantity.selected.count",
    )


class Quoting(ProtocolBase):
    """An order read from a select, init or confirm and checked against the catalog, its
    quote, and the order document with billing, payment and terms."""

    def read_order(
        self, session: Session, payload: Mapping[str, Any], *, complete: bool = False
    ) -> Selection:
        """The order of a select/init/confirm, checked line by line against the catalog.

        ``complete``: a fulfilment must be chosen (init, confirm).
        """
        path = "message.order"
        order = dig(payload, "message", "order") or {}
        provider_id = dig(order, "provider", "id")
        if not isinstance(provider_id, str) or not provider_id:
            raise refuse(
                "Indiquez le pôle (provider.id).", ErrorCode.INVALID_REQUEST, f"{path}.provider.id"
            )
        provider = provider_repo.get_provider(session, provider_id)
        if provider is None:
            raise refuse(
                f"Pôle inconnu : « {provider_id[:40]} ».",
                ErrorCode.PROVIDER_NOT_FOUND,
                f"{path}.provider.id",
            )
        wanted = order.get("items")
        if not isinstance(wanted, list) or not wanted:
            raise refuse(
                "La commande ne contient aucun article.", ErrorCode.INVALID_REQUEST, f"{path}.items"
            )
        counts: list[tuple[int, str, int]] = []
        seen: set[str] = set()
        for index, item in enumerate(wanted):
            at = f"{path}.items[{index}]"
            sku = dig(item, "id")
            if not isinstance(sku, str) or not sku:
                raise refuse("Article sans identifiant.", ErrorCode.INVALID_REQUEST, f"{at}.id")
            if sku in seen:
                raise refuse(
                    f"Article « {sku[:40]} » présent deux fois ; une ligne par article.",
                    ErrorCode.INVALID_REQUEST,
                    f"{at}.id",
                )
            seen.add(sku)
            count = check_count(
                dig(item, "quantity", "selected", "count"), path=f"{at}.quantity.selected.count"
            )
            counts.append((index, sku, count))
        rows = product_repo.get_items_by_sku(session, provider_id, seen)
        lines: list[Line] = []
        for index, sku, count in counts:
            at = f"{path}.items[{index}]"
            row = rows.get(sku)
            if row is None:
                raise refuse(
                    f"Article inconnu chez {provider['name']} : « {sku[:40]} ».",
                    ErrorCode.ITEM_NOT_FOUND,
                    f"{at}.id",
                )
            check_count(count, quantity_rules(row), path=f"{at}.quantity.selected.count")
            lines.append(Line(index, row, count))
        locations = place_repo.get_locations(session, [provider_id])
        fulfillment, requested = self._fulfillment(session, provider, order, lines, complete)
        return Selection(provider, lines, fulfillment, requested, locations)

    def _fulfillment(
        self,
        session: Session,
        provider: Row,
        order: Mapping[str, Any],
        lines: Sequence[Line],
        complete: bool,
    ) -> tuple[Row | None, dict[str, Any] | None]:
        path = "message.order.fulfillments[0]"
        requested = dig(order, "fulfillments", 0)
        options = place_repo.get_fulfillment_options(session, [provider["id"]])
        if not isinstance(requested, dict) or not (requested.get("id") or requested.get("type")):
            check_windows(requested, DeliveryRules(), path)
            if complete:
                raise refuse(
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
            raise refuse(
                f"Mode d'exécution non offert par {provider['name']}.",
                ErrorCode.FULFILLMENT_UNAVAILABLE,
                where,
            )
        if option["type"] == FulfillmentType.LIVRAISON.value:
            served = column_repo.split_codes(option["regions"])
            for index, stop in enumerate(requested.get("stops") or []):
                code = dig(stop, "location", "city", "code")
                if dig(stop, "type") != "end" or not code:
                    continue
                at = f"{path}.stops[{index}].location.city.code"
                region = str(parse_region(code, path=at))
                if served and "*" not in served and region not in served:
                    raise refuse(
                        f"{option['name']} ne dessert pas la région {region}.",
                        ErrorCode.DELIVERY_NOT_SERVICEABLE,
                        at,
                    )
        check_windows(requested, delivery_rules(option), path)
        for line in lines:
            if not keeps(option, line.item["conservation"]):
                raise refuse(
                    f"« {line.item['name']} » exige la chaîne de froid, que "
                    f"« {option['name']} » ne maintient pas.",
                    ErrorCode.COLD_CHAIN_REQUIRED,
                    f"message.order.items[{line.index}].id",
                )
        return option, requested

    # --- quotes and order documents -----------------------------------------------------------

    def quote(self, selection: Selection) -> Quote:
        breakup: list[dict[str, Any]] = []
        lines: list[order_repo.OrderLine] = []
        taxed = []
        for line in selection.lines:
            row = line.item
            amount = line_amount(row["price"], line.count)
            taxes = line_taxes(amount, taxable=bool(row["taxable"]))
            taxed.append(taxes)
            lines.append(
                order_repo.OrderLine(
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
        wanted = dig(payload, "message", "order", "payments", 0, "type")
        terms = payment_terms(selection.provider, wanted if isinstance(wanted, str) else None)
        if terms is None:
            accepted = ", ".join(column_repo.split_codes(selection.provider["payment_types"]))
            raise refuse(
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
        self, session: Session, payload: Mapping[str, Any]
    ) -> tuple[Selection, Quote, dict[str, Any]]:
        """What init and confirm share: the complete order with billing, payment, terms."""
        billing = dig(payload, "message", "order", "billing")
        if not isinstance(billing, dict) or not billing.get("name"):
            raise refuse(
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
            raise refuse(
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
            dig(payload, "message", "order", "tags"), path="message.order.tags"
        )
        if number is not None:
            order["tags"] = [purchase_order_group(number)]
        assert selection.fulfillment is not None
        order["cancellation_terms"] = cancellation_terms(
            FulfillmentType(selection.fulfillment["type"]),
            fee_percentage=selection.provider["cancellation_fee_percentage"],
        )
        return selection, quote, order
