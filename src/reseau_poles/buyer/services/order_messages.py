"""The Beckn messages of an order's requests (select … support), checked by their models
before anything is signed (no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from reseau_poles.participant import ApiError
from reseau_poles.protocol.jsonpath import json_path
from reseau_poles.protocol.models import ACTION_MODELS, Context, to_bytes
from reseau_poles.protocol.profile import COUNTRY, payment, purchase_order_group

from ..requests import CancelIn, PaymentIn, RatingIn, SupportIn, UpdateIn
from ..settings import BuyerSettings


def _fulfillment(request: Mapping[str, Any]) -> dict[str, Any] | None:
    chosen = request.get("fulfilment")
    if not chosen:
        return None
    document: dict[str, Any] = {"type": chosen["type"]}
    if chosen.get("id"):
        document["id"] = chosen["id"]
    location: dict[str, Any] = {}
    if chosen.get("site_name"):
        location["descriptor"] = {"name": chosen["site_name"]}
    if chosen.get("address"):
        location["address"] = chosen["address"]
    if chosen.get("gps"):
        location["gps"] = chosen["gps"].replace(" ", "")
    if location or chosen.get("region"):
        if chosen.get("region"):
            location["city"] = {"code": chosen["region"]}
        location["country"] = {"code": str(COUNTRY)}
    stop: dict[str, Any] = {"type": "end"}
    if location:
        stop["location"] = location
    window = request.get("delivery_window")
    if window:
        stop["time"] = {"range": {"start": window["start"], "end": window["end"]}}
    contact = chosen.get("contact") or {}
    if contact.get("phone") or contact.get("email"):
        stop["contact"] = {k: contact[k] for k in ("phone", "email") if contact.get(k)}
    if contact.get("name"):
        stop["person"] = {"name": contact["name"]}
    if chosen.get("instructions"):
        stop["instructions"] = {"short_desc": chosen["instructions"]}
    if len(stop) > 1:
        document["stops"] = [stop]
    return document


def beckn_order(request: Mapping[str, Any], *, complete: bool) -> dict[str, Any]:
    """The ``message.order`` of select (``complete=False``), init and confirm."""
    order: dict[str, Any] = {
        "provider": {"id": request["provider"]["id"]},
        "items": [
            {"id": line["id"], "quantity": {"selected": {"count": line["quantity"]}}}
            for line in request["items"]
        ],
    }
    fulfillment = _fulfillment(request)
    if fulfillment is not None:
        order["fulfillments"] = [fulfillment]
    if complete:
        if request.get("billing"):
            order["billing"] = dict(request["billing"])
        if request.get("payment"):
            terms = PaymentIn.model_validate(request["payment"]).terms()
            order["payments"] = [payment(terms)]
    if request.get("purchase_order_number"):
        order["tags"] = [purchase_order_group(request["purchase_order_number"])]
    return order


def order_message(
    order: Mapping[str, Any],
    action: str,
    request: Mapping[str, Any],
    parsed: BaseModel | None,
) -> dict[str, Any]:
    """The ``message`` of ``action`` for ``order`` (``request``: the order's request as it
    stands; ``parsed``: the action's body)."""
    seller_order_id = order["seller_order_id"] or ""
    if action == "select":
        return {"order": beckn_order(request, complete=False)}
    if action in ("init", "confirm"):
        return {"order": beckn_order(request, complete=True)}
    if action in ("status", "track"):
        return {"order_id": seller_order_id}
    if isinstance(parsed, CancelIn):
        message: dict[str, Any] = {
            "order_id": seller_order_id,
            "cancellation_reason_id": parsed.reason_code,
        }
        if parsed.description:
            message["descriptor"] = {"short_desc": parsed.description}
        return message
    if isinstance(parsed, UpdateIn):
        changed = dict(request)
        changed.pop("delivery_window", None) if parsed.fulfilment else None
        if parsed.items is not None:
            changed["items"] = [line.model_dump() for line in parsed.items]
            target = "order.items"
        else:
            assert parsed.fulfilment is not None
            changed["fulfilment"] = parsed.fulfilment.model_dump(exclude_none=True)
            target = "order.fulfillments"
        order_part = beckn_order(changed, complete=False)
        order_part["id"] = seller_order_id
        if target == "order.items":
            order_part.pop("fulfillments", None)
        else:
            order_part.pop("items", None)
        order_part.pop("tags", None)
        return {"update_target": target, "order": order_part}
    if isinstance(parsed, RatingIn):
        return {
            "ratings": [
                {
                    "rating_category": parsed.category,
                    "id": parsed.id or seller_order_id,
                    "value": str(parsed.value),
                }
            ]
        }
    if isinstance(parsed, SupportIn):
        support: dict[str, Any] = {"ref_id": seller_order_id or order["id"]}
        if parsed.phone:
            support["callback_phone"] = parsed.phone
        if parsed.email:
            support["email"] = parsed.email
        return {"support": support}
    raise AssertionError(action)  # pragma: no cover


def order_context(
    settings: BuyerSettings, action: str, order_id: str, bpp_id: str, bpp_uri: str, city: str
) -> Context:
    """A new message's context in the order's transaction (the order id)."""
    return Context.new(
        action,  # type: ignore[arg-type]
        domain=settings.domain,
        bap_id=settings.subscriber_id,
        bap_uri=settings.public_url,
        bpp_id=bpp_id,
        bpp_uri=bpp_uri,
        city_code=city,
        country_code=str(COUNTRY),
        transaction_id=order_id,
    )


def checked_body(action: str, context: Context, message: Mapping[str, Any]) -> bytes:
    """The request, checked by its Beckn model before anything is signed; what the model
    refuses is the client's to fix (400 with the Beckn path)."""
    try:
        model = ACTION_MODELS[action].model_validate(
            {
                "context": context.model_dump(mode="json", by_alias=True, exclude_unset=True),
                "message": message,
            }
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        path = json_path(first.get("loc", ()), root="message")
        raise ApiError(
            400,
            "parametres_invalides",
            f"Message Beckn refusé : {first.get('msg', 'valeur invalide')}",
            path,
        ) from None
    return to_bytes(model)
