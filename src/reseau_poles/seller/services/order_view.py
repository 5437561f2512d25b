"""What a pôle reads of an order without opening its Beckn document.

The stored order document (``seller_orders.document``) keeps what the buyer sent at confirm:
``billing`` (who pays: the buyer organisation), the fulfilment's ``end`` stop (the delivery
site, its address, the delivery window, the receiving contact and instructions) and the
``bon_de_commande`` tag (the purchase-order number). :func:`order_view` lifts these out as
plain fields, for the management API's orders, the ``order.*`` webhooks and the pick list;
:func:`current_document` is the stored document with the order's current status and
fulfilment state written back in.

Every reader is lenient: a stored document was checked when it came in, and an older or
partial one only gives ``None`` where something is missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from reseau_poles.protocol.errors import ProtocolError
from reseau_poles.protocol.models import format_datetime, parse_rfc3339
from reseau_poles.protocol.profile import parse_purchase_order

# Delivery days are Québec's days.
TIME_ZONE: Final = ZoneInfo("America/Toronto")


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC times ``[start, end)`` of a day in Québec (23 or 25 hours at DST changes)."""
    start = datetime.combine(day, time(), TIME_ZONE)
    end = datetime.combine(day + timedelta(days=1), time(), TIME_ZONE)
    return start.astimezone(UTC), end.astimezone(UTC)


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _get(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


def purchase_order_number(document: Mapping[str, Any]) -> str | None:
    """The ``bon_de_commande`` number of an order document, or ``None``."""
    try:
        return parse_purchase_order(document.get("tags"), path="order.tags")
    except ProtocolError:
        return None


def end_stop(document: Mapping[str, Any]) -> Mapping[str, Any]:
    """The delivery's ``end`` stop (the last one), or ``{}``."""
    found: Mapping[str, Any] = {}
    fulfillments = document.get("fulfillments")
    for fulfillment in fulfillments if isinstance(fulfillments, list) else []:
        stops = _get(fulfillment, "stops")
        for stop in stops if isinstance(stops, list) else []:
            if isinstance(stop, Mapping) and stop.get("type") == "end":
                found = stop
    return found


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 time (``…Z`` or with an offset) as aware UTC; ``None`` if unreadable."""
    if not isinstance(value, str):
        return None
    try:
        return parse_rfc3339(value).astimezone(UTC)
    except ValueError:
        return None


def delivery_window(document: Mapping[str, Any]) -> tuple[datetime | None, datetime | None]:
    """The delivery window asked for (end stop's ``time.range``), as UTC times."""
    window = _get(end_stop(document), "time", "range")
    start, end = parse_time(_get(window, "start")), parse_time(_get(window, "end"))
    if start is None:
        start = parse_time(_get(end_stop(document), "time", "timestamp"))
    return start, end


def order_columns(document: Mapping[str, Any]) -> dict[str, Any]:
    """The ``seller_orders`` columns read from the document (filters, pick list)."""
    start, end = delivery_window(document)
    return {
        "purchase_order_number": purchase_order_number(document),
        "delivery_start": start,
        "delivery_end": end,
    }


def buyer_of(document: Mapping[str, Any]) -> dict[str, Any]:
    """The buyer organisation as billed: name, e-mail, phone, address, tax numbers."""
    billing = document.get("billing")
    billing = billing if isinstance(billing, Mapping) else {}
    organisation = _text(_get(billing, "organization", "descriptor", "name"))
    return {
        "name": organisation or _text(billing.get("name")),
        "email": _text(billing.get("email")),
        "phone": _text(billing.get("phone")),
        "address": _text(billing.get("address")),
        "tax_id": _text(billing.get("tax_id")),
    }


def delivery_of(document: Mapping[str, Any]) -> dict[str, Any]:
    """Where, when and to whom: site, address, region, GPS, window, contact, instructions."""
    stop = end_stop(document)
    place = stop.get("location")
    location: Mapping[str, Any] = place if isinstance(place, Mapping) else {}
    start, end = delivery_window(document)
    return {
        "site": _text(_get(location, "descriptor", "name")),
        "address": _text(location.get("address")),
        "region": _text(_get(location, "city", "code")),
        "gps": _text(location.get("gps")),
        "window": (
            {"start": format_datetime(start), "end": format_datetime(end) if end else None}
            if start is not None
            else None
        ),
        "contact": {
            "name": _text(_get(stop, "person", "name")),
            "phone": _text(_get(stop, "contact", "phone")),
            "email": _text(_get(stop, "contact", "email")),
        },
        "instructions": _text(_get(stop, "instructions", "short_desc"))
        or _text(_get(stop, "instructions", "name")),
    }


def order_view(document: Mapping[str, Any]) -> dict[str, Any]:
    """The fields a pôle reads an order by: ``purchase_order_number``, ``buyer`` (the
    organisation) and ``delivery``."""
    return {
        "purchase_order_number": purchase_order_number(document),
        "buyer": buyer_of(document),
        "delivery": delivery_of(document),
    }


def current_document(row: Mapping[str, Any]) -> dict[str, Any]:
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


def set_state(
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
