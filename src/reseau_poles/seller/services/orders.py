"""The pôle's side of its orders: the list and one order with its lines and events, as the
management API shows them (the Beckn document beside plain fields: purchase-order number,
buyer organisation, delivery, :mod:`..order_view`). Moving the fulfilment and cancelling
are :meth:`~.protocol.SellerService.advance_fulfillment` and
:meth:`~.protocol.SellerService.seller_cancel` (they answer the buyer too)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from reseau_poles.protocol.models import format_datetime
from reseau_poles.protocol.profile import format_amount
from reseau_poles.storage import read_session

from ..repositories import orders as order_repo
from .order_view import current_document, order_view


def _time(value: Any) -> str | None:
    return format_datetime(value) if value is not None else None


def summary(row: Mapping[str, Any]) -> dict[str, Any]:
    view = order_view(row["document"])
    return {
        "id": row["id"],
        "purchase_order_number": row["purchase_order_number"] or view["purchase_order_number"],
        "status": row["status"],
        "fulfillment": {
            "id": row["fulfillment_id"],
            "type": row["fulfillment_type"],
            "state": row["fulfillment_state"],
            "tracking_url": row["tracking_url"],
        },
        "total": {"currency": "CAD", "value": format_amount(Decimal(row["total"]))},
        "payment_type": row["payment_type"],
        "buyer": {
            **view["buyer"],
            "bap_id": row["bap_id"],
            "transaction_id": row["transaction_id"],
        },
        "delivery": view["delivery"],
        "cancellation": (
            {
                "by": row["cancelled_by"],
                "reason_code": row["cancellation_reason"],
                "fee": format_amount(Decimal(row["cancellation_fee"] or 0)),
            }
            if row["cancelled_by"]
            else None
        ),
        "created_at": _time(row["created_at"]),
        "updated_at": _time(row["updated_at"]),
    }


def detail(session: Session, row: Mapping[str, Any]) -> dict[str, Any]:
    lines = [
        {
            "line_no": line["line_no"],
            "sku": line["sku"],
            "name": line["name"],
            "quantity": line["quantity"],
            "unit_price": format_amount(Decimal(line["unit_price"])),
            "amount": format_amount(Decimal(line["amount"])),
            "tps": format_amount(Decimal(line["tps"])),
            "tvq": format_amount(Decimal(line["tvq"])),
        }
        for line in order_repo.lines_of(session, row["id"])
    ]
    events = [
        {"kind": event["kind"], "detail": event["detail"], "at": _time(event["created_at"])}
        for event in order_repo.events_of(session, row["id"])
    ]
    return {**summary(row), "lines": lines, "events": events, "document": current_document(row)}


class PoleOrders:
    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def page(
        self,
        provider_id: str,
        *,
        status: str | None,
        fulfillment_state: str | None,
        purchase_order_number: str | None,
        delivered_between: tuple[datetime, datetime] | None,
        limit: int,
        offset: int,
        by_delivery: bool = False,
    ) -> dict[str, Any]:
        """A page of the pôle's orders, newest first (``by_delivery``: by delivery window, the
        soonest first), with how many match in all."""
        with read_session(self.factory) as session:
            rows, total = order_repo.list_orders(
                session,
                provider_id,
                status=status,
                fulfillment_state=fulfillment_state,
                purchase_order_number=purchase_order_number,
                delivered_between=delivered_between,
                limit=limit,
                offset=offset,
                by_delivery=by_delivery,
            )
        following = offset + len(rows)
        return {
            "orders": [summary(row) for row in rows],
            "total": total,
            "limit": limit,
            "offset": offset,
            "next_offset": following if following < total else None,
        }

    def detail(self, provider_id: str, order_id: str) -> dict[str, Any] | None:
        """One of the pôle's orders with its lines and events; ``None`` if it has no such
        order."""
        with read_session(self.factory) as session:
            row = order_repo.lock_order(session, order_id)
            if row is None or row["provider_id"] != provider_id:
                return None
            return detail(session, row)
