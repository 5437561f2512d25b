"""Where an order stands, as steps a person follows (no I/O): created, confirmed by the pôle,
then its fulfilment's steps for its type, until delivered (or collected) or cancelled; and
what cancelling it now would cost, from the cancellation terms the pôle quoted.

Both read an order as :meth:`OrderService.view <.orders.OrderService.view>` returns it (the
client API's document: ``state``, ``fulfillment``, ``events``, ``total``,
``seller_document``, ``allowed_actions`` …).

**Steps.** ``created`` (its creation time), ``accepted`` (the pôle confirmed), then per
fulfilment type the main states of :mod:`reseau_poles.protocol.lifecycle`:

* livraison: Packed → Out-for-delivery → delivered;
* cueillette: Packed → Ready-for-pickup → collected;
* point de chute: Packed → Out-for-delivery → at the drop point → collected.

A state the fulfilment may pass through but need not (Agent-assigned, a carrier's pickup) is a
step only once reached. A step is *done* when reached or passed (a skipped step is done
without a time); the last step reached is the *current* one. A cancelled order keeps the
steps it reached and ends with ``cancelled``. Each step's ``code`` names its words in the
portal's catalogue (``orders.etape.<code>``).

**Cancellation fee.** The pôle's ``cancellation_terms`` (Beckn 1.1, in its order document)
list, per fulfilment state, the fee of a cancellation by the buyer — a percentage of the
order's total or an amount; a state the terms do not list may not be cancelled. The fee
shown is computed as the seller node computes it (percentage × total, rounded half up to the
cent), so that the person confirms the amount they will be charged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Literal

CENT = Decimal("0.01")

# The fulfilment's steps per type: (state, shown always?) in the order they come.
_STEPS: dict[str, tuple[tuple[str, bool], ...]] = {
    "livraison": (
        ("Packed", True),
        ("Agent-assigned", False),
        ("Order-picked-up", False),
        ("Out-for-delivery", True),
        ("Order-delivered", True),
    ),
    "cueillette": (
        ("Packed", True),
        ("Ready-for-pickup", True),
        ("Order-picked-up", True),
    ),
    "point_de_chute": (
        ("Packed", True),
        ("Agent-assigned", False),
        ("Out-for-delivery", True),
        ("Ready-for-pickup", True),
        ("Order-picked-up", True),
    ),
}
DEFAULT_TYPE = "livraison"
CANCELLED = "Cancelled"


def step_code(state: str, fulfillment_type: str | None) -> str:
    """The catalogue's code of a fulfilment state, in words fitting its type:
    ``Order-picked-up`` is the carrier's pickup in a delivery but the customer's collection
    otherwise; ``Ready-for-pickup`` at a drop point is the arrival there."""
    kind = fulfillment_type if fulfillment_type in _STEPS else DEFAULT_TYPE
    if state == "Order-picked-up" and kind != "livraison":
        return "collected"
    if state == "Ready-for-pickup" and kind == "point_de_chute":
        return "at-drop-point"
    if state == "Order-delivered":
        return "delivered"
    if state == CANCELLED:
        return "cancelled"
    return state


@dataclass(frozen=True)
class Step:
    """One step: ``code`` (``orders.etape.<code>``), ``status`` done / current / todo, and
    when it was reached (ISO 8601, ``None`` when skipped or not yet)."""

    code: str
    status: Literal["done", "current", "todo"]
    at: str | None = None


def _reached(events: Sequence[Mapping[str, Any]]) -> tuple[dict[str, str | None], str | None]:
    """When each fulfilment state was first reached, and when the order was confirmed."""
    reached: dict[str, str | None] = {}
    confirmed = None
    for event in events:
        if event.get("kind") == "fulfillment_changed" and event.get("to"):
            reached.setdefault(str(event["to"]), event.get("at"))
        elif event.get("kind") == "state_changed" and event.get("to") == "confirmed":
            confirmed = confirmed or event.get("at")
        elif (
            event.get("kind") == "state_changed"
            and event.get("to") == "cancelled"
            and CANCELLED not in reached
        ):
            reached[CANCELLED] = event.get("at")
    return reached, confirmed


def timeline(order: Mapping[str, Any]) -> list[Step]:
    """The order's steps (see the module's text)."""
    state = order.get("state")
    fulfillment = order.get("fulfillment") or {}
    kind = str(fulfillment.get("type")) if fulfillment.get("type") in _STEPS else DEFAULT_TYPE
    current = fulfillment.get("state")
    reached, confirmed_at = _reached(order.get("events") or ())
    confirmed = state in ("confirmed", "completed") or bool(confirmed_at)
    cancelled = state == "cancelled" or current == CANCELLED
    if current and current not in (CANCELLED, "Pending"):
        reached.setdefault(current, None)

    flow = _STEPS[kind]
    order_of = {name: index for index, (name, _) in enumerate(flow)}
    furthest = max((order_of[name] for name in reached if name in order_of), default=-1)
    steps: list[tuple[str, bool, str | None]] = [
        ("created", True, order.get("created_at")),
        ("accepted", confirmed, confirmed_at or order.get("confirmed_at")),
    ]
    for index, (name, always) in enumerate(flow):
        done = index <= furthest
        if not always and name not in reached:
            continue  # an optional state, never reached: no step
        if cancelled and not done:
            continue  # what a cancelled order will never reach
        steps.append((step_code(name, kind), done, reached.get(name)))
    if cancelled:
        steps.append(("cancelled", True, reached.get(CANCELLED) or order.get("updated_at")))
    last_done = max((i for i, (_, done, _) in enumerate(steps) if done), default=0)
    return [
        Step(code, "current" if i == last_done else ("done" if done else "todo"), at)
        for i, (code, done, at) in enumerate(steps)
    ]


# --- cancellation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CancellationQuote:
    """What cancelling the order now costs.

    ``allowed``: the buyer may ask (the life cycle allows ``cancel`` and the pôle's terms
    list the fulfilment's state); else ``reason``: ``non_confirmee`` (nothing to cancel at
    the pôle yet), ``etat`` (not at this step: already delivered or cancelled, out for
    delivery …), ``hors_conditions`` (the terms
    do not list this state), ``demande_en_cours`` (another request awaits the pôle's answer).
    ``fee`` (a Decimal, ``None`` when the pôle quoted no terms), ``percentage`` (when the
    fee is one), ``total`` the order's total it applies to, ``state`` the fulfilment's."""

    allowed: bool
    reason: str | None
    state: str
    fee: Decimal | None = None
    percentage: Decimal | None = None
    total: Decimal | None = None
    currency: str = "CAD"

    @property
    def free(self) -> bool:
        return self.fee is not None and self.fee == 0


def _decimal(value: Any) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None
    return number if number.is_finite() else None


def _terms(order: Mapping[str, Any]) -> list[Mapping[str, Any]] | None:
    document = order.get("seller_document")
    terms = document.get("cancellation_terms") if isinstance(document, Mapping) else None
    if not isinstance(terms, list):
        return None
    return [term for term in terms if isinstance(term, Mapping)]


def _term_state(term: Mapping[str, Any]) -> str | None:
    state = term.get("fulfillment_state")
    descriptor = state.get("descriptor") if isinstance(state, Mapping) else None
    code = descriptor.get("code") if isinstance(descriptor, Mapping) else None
    return code if isinstance(code, str) else None


def fee_of(term: Mapping[str, Any], total: Decimal | None) -> tuple[Decimal | None, Decimal | None]:
    """``(fee, percentage)`` of one cancellation term: a percentage of ``total`` (rounded half
    up to the cent), or the term's amount; ``(None, None)`` when it cannot be read."""
    fee = term.get("cancellation_fee")
    if not isinstance(fee, Mapping):
        return None, None
    percentage = _decimal(fee.get("percentage")) if "percentage" in fee else None
    if percentage is not None and 0 <= percentage <= 100:
        if total is None:
            return None, percentage
        return (total * percentage / 100).quantize(CENT, rounding=ROUND_HALF_UP), percentage
    amount = fee.get("amount")
    value = _decimal(amount.get("value")) if isinstance(amount, Mapping) else None
    if value is not None and value >= 0:
        return value.quantize(CENT, rounding=ROUND_HALF_UP), None
    return None, None


def cancellation_quote(order: Mapping[str, Any]) -> CancellationQuote:
    """What cancelling ``order`` now would cost, per the pôle's terms (see the module)."""
    fulfillment = order.get("fulfillment") or {}
    state = str(fulfillment.get("state") or "Pending")
    total_doc = order.get("total") or {}
    total = _decimal(total_doc.get("value")) if isinstance(total_doc, Mapping) else None
    currency = str(total_doc.get("currency") or "CAD") if isinstance(total_doc, Mapping) else "CAD"
    base: dict[str, Any] = {"state": state, "total": total, "currency": currency}
    if order.get("state") in ("new", "selected", "initialized"):
        return CancellationQuote(False, "non_confirmee", **base)
    if "cancel" not in (order.get("allowed_actions") or ()):
        return CancellationQuote(False, "etat", **base)
    terms = _terms(order)
    if terms is None:
        return CancellationQuote(
            order.get("pending") is None,
            None if order.get("pending") is None else "demande_en_cours",
            **base,
        )
    term = next((t for t in terms if _term_state(t) == state), None)
    if term is None:
        return CancellationQuote(False, "hors_conditions", **base)
    fee, percentage = fee_of(term, total)
    if order.get("pending") is not None:
        return CancellationQuote(False, "demande_en_cours", fee=fee, percentage=percentage, **base)
    return CancellationQuote(True, None, fee=fee, percentage=percentage, **base)


def cancellation_terms(
    order: Mapping[str, Any],
) -> list[tuple[str, Decimal | None, Decimal | None]]:
    """The pôle's terms as a table: ``(fulfilment state, fee, percentage)`` per state where
    the buyer may cancel, in the pôle's order (empty when it quoted none)."""
    total_doc = order.get("total") or {}
    total = _decimal(total_doc.get("value")) if isinstance(total_doc, Mapping) else None
    rows = []
    for term in _terms(order) or ():
        state = _term_state(term)
        if state is not None:
            rows.append((state, *fee_of(term, total)))
    return rows
