"""After confirm, the buyer's requests: track, cancel (its terms, stock restored), update
(items, fulfilment or billing, the order rebuilt at its agreed prices), rating, support. Each
change is an event row, a webhook event and its callback, in one transaction."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy.orm import Session

from reseau_poles.network.outgoing import Outgoing
from reseau_poles.protocol.errors import ErrorCode, LifecycleError
from reseau_poles.protocol.lifecycle import (
    Canceller,
    cancellation_terms,
)
from reseau_poles.protocol.models import format_datetime
from reseau_poles.protocol.profile import (
    FulfillmentState,
    FulfillmentType,
    check_count,
    format_amount,
    unavailable_text,
)
from reseau_poles.storage import utcnow, write_session

from ..repositories import orders as order_repo
from ..repositories import places as place_repo
from ..repositories import products as product_repo
from ..repositories import providers as provider_repo
from ..repositories import stock as stock_repo
from ..repositories.stock_movements import Reason
from .callbacks import Row, dig, refuse
from .catalog import (
    cad,
)
from .order_view import current_document, end_stop, order_columns, set_state
from .quotes import Line, Quote, Quoting, Selection, quantity_rules

CENT = Decimal("0.01")


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


class OrderChanges(Quoting):
    """The buyer's requests about a confirmed order: track, cancel, update (items,
    fulfilment, billing), rating and support."""

    def _buyers_order(
        self, session: Session, payload: Mapping[str, Any], order_id: Any, path: str, *, lock: bool
    ) -> Row:
        """The buyer's own order (``FOR UPDATE`` when ``lock``), or 30018 at ``path``."""
        row = None
        if isinstance(order_id, str) and order_id:
            row = (
                order_repo.lock_order(session, order_id)
                if lock
                else order_repo.find_order(session, order_id)
            )
        if row is None or row["bap_id"] != payload["context"].get("bap_id"):
            raise refuse(
                f"Commande inconnue : « {str(order_id)[:40]} ».", ErrorCode.ORDER_NOT_FOUND, path
            )
        return row

    def handle_track(self, payload: Mapping[str, Any]) -> None:
        at = "message.order_id"
        with self.network.outgoing() as out, write_session(self.factory) as session:
            row = self._buyers_order(
                session, payload, dig(payload, "message", "order_id"), at, lock=False
            )
            order_repo.lifecycle_of(row).check("track", path=at)
            if row["fulfillment_state"] != FulfillmentState.OUT_FOR_DELIVERY.value:
                state = FulfillmentState(row["fulfillment_state"])
                raise refuse(
                    "Suivi offert seulement pendant la livraison (« Out-for-delivery ») ; "
                    f"la commande est à l'étape « {state.value} ».",
                    ErrorCode.TRACKING_NOT_ENABLED,
                    at,
                )
            tracking: dict[str, Any] = {"id": row["fulfillment_id"], "status": "active"}
            if row["tracking_url"]:
                tracking["url"] = row["tracking_url"]
            self.send(out, session, payload, "on_track", {"tracking": tracking})

    def handle_cancel(self, payload: Mapping[str, Any]) -> None:
        at = "message.order_id"
        reason = dig(payload, "message", "cancellation_reason_id")
        if reason is not None and (not isinstance(reason, str) or not 0 < len(reason) <= 64):
            raise refuse(
                "Motif d'annulation invalide (code de 1 à 64 caractères).",
                ErrorCode.INVALID_CANCELLATION_REASON,
                "message.cancellation_reason_id",
            )
        with self.network.outgoing() as out, write_session(self.factory) as session:
            row = self._buyers_order(
                session, payload, dig(payload, "message", "order_id"), at, lock=True
            )
            lifecycle = order_repo.lifecycle_of(row)
            lifecycle.receive("cancel", path=at)  # the buyer's cancellation terms
            fee = Decimal(0)
            if lifecycle.cancellation_fee_applies:
                provider = provider_repo.get_provider(session, row["provider_id"])
                assert provider is not None
                percentage = Decimal(provider["cancellation_fee_percentage"])
                fee = (Decimal(row["total"]) * percentage / 100).quantize(CENT, ROUND_HALF_UP)
            order = self._cancel(out, session, row, Canceller.BUYER, reason or "acheteur", fee)
            self.send(out, session, payload, "on_cancel", {"order": current_document(order)})

    def _cancel(
        self,
        out: Outgoing,
        session: Session,
        row: Row,
        by: Canceller,
        reason: str,
        fee: Decimal,
        note: str = "",
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
        set_state(document, row["fulfillment_id"], FulfillmentState.CANCELLED.value, now, self)
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
            out,
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
        target = dig(payload, "message", "update_target")
        wanted = dig(payload, "message", "order") or {}
        with self.network.outgoing() as out, write_session(self.factory) as session:
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
                raise refuse(
                    "Cible de modification non prise en charge : « order.items », "
                    "« order.fulfillments » ou « order.billing ».",
                    ErrorCode.INVALID_REQUEST,
                    "message.update_target",
                )
            order_repo.add_event(session, row["id"], "updated", {"target": target, **detail})
            document = current_document(order)
            self.emit(out, session, order, "order.updated", target=target, order=document, **detail)
            self.send(out, session, payload, "on_update", {"order": document})

    def _agreed_selection(
        self,
        session: Session,
        row: Row,
        counts: Mapping[str, int],
        option: Row | None = None,
        requested: Mapping[str, Any] | None = None,
    ) -> tuple[Selection, Quote]:
        """The order's lines at their agreed prices with new counts (and fulfilment)."""
        provider = provider_repo.get_provider(session, row["provider_id"])
        assert provider is not None
        agreed = {line["sku"]: line for line in order_repo.lines_of(session, row["id"])}
        rows = product_repo.get_items_by_sku(session, row["provider_id"], set(counts))
        lines = [
            Line(index, {**rows[sku], "price": agreed[sku]["unit_price"]}, count)
            for index, (sku, count) in enumerate(counts.items())
            if count > 0
        ]
        if option is None:
            option = next(
                o
                for o in place_repo.get_fulfillment_options(session, [row["provider_id"]])
                if o["id"] == row["fulfillment_id"]
            )
        if requested is None:
            stops = dig(row["document"], "fulfillments", 0, "stops") or []
            requested = {"stops": [s for s in stops if dig(s, "type") == "end"]}
        locations = place_repo.get_locations(session, [row["provider_id"]])
        selection = Selection(provider, lines, option, dict(requested), locations)
        return selection, self.quote(selection)

    def _rewrite(self, session: Session, row: Row, selection: Selection, quote: Quote) -> Row:
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
        set_state(document, selection.fulfillment["id"], row["fulfillment_state"], now, self)
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
        self, session: Session, row: Row, wanted: Mapping[str, Any]
    ) -> tuple[Row, dict[str, Any]]:
        current = {line["sku"]: line for line in order_repo.lines_of(session, row["id"])}
        counts = {sku: int(line["quantity"]) for sku, line in current.items()}
        requested = wanted.get("items")
        if not isinstance(requested, list) or not requested:
            raise refuse(
                "Indiquez les articles à modifier.",
                ErrorCode.INVALID_REQUEST,
                "message.order.items",
            )
        new: dict[str, tuple[int, int]] = {}
        for index, item in enumerate(requested):
            at = f"message.order.items[{index}]"
            sku = dig(item, "id")
            if not isinstance(sku, str) or sku in new:
                raise refuse("Article absent ou répété.", ErrorCode.INVALID_REQUEST, f"{at}.id")
            count = check_count(
                dig(item, "quantity", "selected", "count"),
                path=f"{at}.quantity.selected.count",
                removable=True,
            )
            if sku not in current:
                raise refuse(
                    f"« {sku[:40]} » n'est pas dans cette commande : ajoutez-le par une "
                    "nouvelle commande.",
                    ErrorCode.UPDATE_INCONSISTENCY,
                    f"{at}.id",
                )
            new[sku] = (index, count)
        counts.update({sku: count for sku, (_index, count) in new.items()})
        if not any(counts.values()):
            raise refuse(
                "Une commande garde au moins un article : pour tout retirer, annulez-la.",
                ErrorCode.UPDATE_INCONSISTENCY,
                "message.order.items",
            )
        rows = product_repo.get_items_by_sku(session, row["provider_id"], set(new))
        changed: dict[str, dict[str, int]] = {}
        for sku, (index, count) in sorted(new.items(), key=lambda kv: current[kv[0]]["item_id"]):
            line, item = current[sku], rows[sku]
            at = f"message.order.items[{index}].quantity.selected.count"
            held = int(line["quantity"])
            # The same rule as select, init and confirm (minimum, maximum, stock) …
            check_count(count, quantity_rules(item), path=at, held=held, removable=True)
            difference = count - held
            # … and the stock taken by one conditional write: never oversold.
            if difference > 0 and not stock_repo.take_stock(
                session,
                line["item_id"],
                difference,
                reason=Reason.MODIFICATION,
                reference=row["id"],
            ):
                left = stock_repo.available(session, line["item_id"])
                raise refuse(
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
        self, session: Session, row: Row, wanted: Mapping[str, Any], lifecycle: Any
    ) -> tuple[Row, dict[str, Any]]:
        provider = provider_repo.get_provider(session, row["provider_id"])
        assert provider is not None
        counts = {
            line["sku"]: int(line["quantity"]) for line in order_repo.lines_of(session, row["id"])
        }
        rows = product_repo.get_items_by_sku(session, row["provider_id"], set(counts))
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
        self, session: Session, row: Row, wanted: Mapping[str, Any]
    ) -> tuple[Row, dict[str, Any]]:
        billing = wanted.get("billing")
        if not isinstance(billing, dict) or not billing.get("name"):
            raise refuse(
                "Indiquez la nouvelle facturation (billing.name …).",
                ErrorCode.INVALID_REQUEST,
                "message.order.billing",
            )
        document = dict(row["document"], billing=billing)
        order_repo.update_order(session, row["id"], document=document)
        order = order_repo.lock_order(session, row["id"])
        assert order is not None
        return order, {"billing": True}

    def handle_rating(self, payload: Mapping[str, Any]) -> None:
        ratings = dig(payload, "message", "ratings")
        if not isinstance(ratings, list) or not ratings:
            raise refuse("Aucune évaluation.", ErrorCode.INVALID_REQUEST, "message.ratings")
        scores = []
        for index, rating in enumerate(ratings):
            try:
                score = Decimal(str(dig(rating, "value")))
            except ArithmeticError:
                score = Decimal(-1)
            if not score.is_finite() or not 1 <= score <= 5:
                raise refuse(
                    "Note invalide : un nombre de 1 à 5.",
                    ErrorCode.INVALID_RATING_VALUE,
                    f"message.ratings[{index}].value",
                )
            scores.append(
                {
                    "category": dig(rating, "rating_category") or "Order",
                    "id": dig(rating, "id"),
                    "value": format(score.normalize(), "f"),
                }
            )
        with self.network.outgoing() as out, write_session(self.factory) as session:
            row = self._transaction_order(session, payload)
            if row is None:
                by_id = next((s["id"] for s in scores if s["category"] == "Order"), None)
                row = self._buyers_order(session, payload, by_id, "message.ratings", lock=False)
            order_repo.lifecycle_of(row).check("rating", path="context.action")
            order_repo.add_event(session, row["id"], "rating", {"ratings": scores})
            self.emit(out, session, row, "rating.received", ratings=scores)
            self.send(out, session, payload, "on_rating", {})

    def handle_support(self, payload: Mapping[str, Any]) -> None:
        ref_id = dig(payload, "message", "support", "ref_id")
        with self.network.outgoing() as out, write_session(self.factory) as session:
            row: Row | None
            if ref_id:
                row = self._buyers_order(
                    session, payload, ref_id, "message.support.ref_id", lock=False
                )
            else:
                row = self._transaction_order(session, payload)
            provider = provider_repo.get_provider(session, row["provider_id"]) if row else None
            if provider is None or not (provider["phone"] or provider["email"]):
                raise refuse(
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
            asked = dig(payload, "message", "support") or {}
            self.emit(
                out,
                session,
                row,
                "support.requested",
                callback_phone=asked.get("callback_phone"),
                email=asked.get("email"),
            )
            self.send(out, session, payload, "on_support", {"support": support})
