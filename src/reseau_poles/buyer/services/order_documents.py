"""An order as the client reads it (``GET /api/orders/{id}``, lists, webhook events), and the
catalogue snapshot kept on its lines (no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from reseau_poles.protocol.errors import ProtocolError
from reseau_poles.protocol.lifecycle import OrderLifecycle, Phase
from reseau_poles.protocol.models import format_datetime
from reseau_poles.protocol.profile import parse_item_tags


def get_path(data: Any, *keys: str | int) -> Any:
    for key in keys:
        if isinstance(key, int):
            if not isinstance(data, list) or len(data) <= key:
                return None
            data = data[key]
        else:
            if not isinstance(data, Mapping):
                return None
            data = data.get(key)
    return data


def decimal_of(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except (InvalidOperation, ValueError):
        return None


# Requests that commit the buyer to a seller: refused with a suspended one (grace or not).


def snapshot(item: Mapping[str, Any] | None) -> dict[str, Any]:
    """Name, unit, certifications, origin and conservation of a catalog item, as it was."""
    if not item:
        return {}
    snapshot: dict[str, Any] = {"name": get_path(item, "descriptor", "name")}
    unit = get_path(item, "quantity", "unitized", "measure", "unit")
    if isinstance(unit, str):
        snapshot["unit"] = unit[:16]
    try:
        tags = parse_item_tags(item.get("tags") or [], path="item.tags")
    except (ProtocolError, ValueError, TypeError):
        return snapshot
    snapshot["certifications"] = sorted(c.value for c in tags.certifications)
    if tags.conservation is not None:
        snapshot["conservation"] = tags.conservation.value
    if tags.origin is not None:
        if tags.origin.region is not None:
            snapshot["origin_region"] = str(tags.origin.region)
        if tags.origin.producer:
            snapshot["producer"] = tags.origin.producer[:255]
    return snapshot


def _time(value: datetime | None) -> str | None:
    return format_datetime(value) if value is not None else None


def _money(value: Decimal | None) -> str | None:
    return f"{Decimal(value):.2f}" if value is not None else None


def order_summary(order: Mapping[str, Any]) -> dict[str, Any]:
    """An order in lists and webhook events."""
    phase = Phase(order["state"])
    pending = None
    if order["pending_action"] is not None:
        pending = {
            "action": order["pending_action"],
            "message_id": order["pending_message_id"],
            "since": _time(order["pending_since"]),
            "dispatch": order["dispatch"],
        }
    return {
        "id": order["id"],
        "transaction_id": order["id"],
        "provider": {
            "bpp_id": order["bpp_id"],
            "bpp_uri": order["bpp_uri"],
            "id": order["provider_id"],
            "name": order.get("provider_name"),
        },
        "state": phase.value,
        "state_label": phase.label,
        "status": order["status"],
        "seller_order_id": order["seller_order_id"],
        "fulfillment": {
            "id": order["fulfillment_id"],
            "type": order["fulfillment_type"],
            "state": order["fulfillment_state"],
        },
        "pending": pending,
        "error": order["last_error"],
        "total": (
            {"currency": order["currency"] or "CAD", "value": _money(order["total"])}
            if order["total"] is not None
            else None
        ),
        "purchase_order_number": order["purchase_order_number"],
        "delivery_site_id": order["delivery_site_id"],
        "cart_id": order["cart_id"],
        "created_at": _time(order["created_at"]),
        "updated_at": _time(order["updated_at"]),
        "confirmed_at": _time(order["confirmed_at"]),
    }


def order_document(
    order: Mapping[str, Any], lines: list[Mapping[str, Any]], events: list[Mapping[str, Any]]
) -> dict[str, Any]:
    """What ``GET /api/orders/{id}`` returns."""
    lifecycle = OrderLifecycle.from_dict(order["lifecycle"])
    document = order_summary(order)
    document.update(
        {
            "allowed_actions": sorted(a.value for a in lifecycle.allowed_actions()),
            "quote": order["quote"],
            "billing": order["billing"],
            "payment": (
                {"type": order["payment_type"], "net_days": order["payment_net_days"]}
                if order["payment_type"]
                else None
            ),
            "delivery_window": (
                {
                    "start": _time(order["delivery_window_start"]),
                    "end": _time(order["delivery_window_end"]),
                }
                if order["delivery_window_start"]
                else None
            ),
            "lines": [
                {
                    "item_id": line["item_id"],
                    "name": line["name"],
                    "quantity": line["quantity"],
                    "unit": line["unit"],
                    "unit_price": _money(line["unit_price"]),
                    "amount": _money(line["amount"]),
                    "taxable": line["taxable"],
                    "tps": _money(line["tps"]),
                    "tvq": _money(line["tvq"]),
                    "certifications": line["certifications"],
                    "origin_region": line["origin_region"],
                    "producer": line["producer"],
                    "conservation": line["conservation"],
                }
                for line in lines
            ],
            "tracking": order["tracking"],
            "support": order["support"],
            "request": order["request"],
            "seller_document": order["document"],
            "events": [
                {
                    "kind": event["kind"],
                    "action": event["action"],
                    "message_id": event["message_id"],
                    "from": event["state_from"],
                    "to": event["state_to"],
                    "detail": event["detail"],
                    "at": _time(event["occurred_at"]),
                }
                for event in events
            ],
        }
    )
    return document
