"""The checks of a message's content and of a callback against its request: the schemas, the
context, the delay (ttl), an error instead of an answer."""

from __future__ import annotations

from typing import Any

from reseau_poles.protocol.errors import ProtocolError

from ..report import Finding
from .exchange import Received, Sent


def schema_findings(action: str, body: bytes, name: str | None = None) -> list[Finding]:
    """``body`` against the model of ``action`` (the rules of the published JSON Schemas)."""
    from reseau_poles.protocol.models import ACTION_MODELS, parse_as

    model = ACTION_MODELS.get(action)
    if model is None:
        return [
            Finding(
                f"Action inconnue : {action}.",
                f"Unknown action: {action}.",
                message=name or action,
                path="context.action",
            )
        ]
    try:
        parse_as(model, body)
    except ProtocolError as exc:
        details = exc.details or {}
        errors = details.get("errors") or [{"path": exc.path, "message": exc.message}]
        return [
            Finding(
                f"Message invalide : {error.get('message')}",
                f"Invalid message: {error.get('message')} ({error.get('type', 'invalide')})",
                message=name or action,
                path=error.get("path") or exc.path,
            )
            for error in errors
        ]
    return []


def context_findings(
    request: Sent,
    callback: Received,
    *,
    bap_id: str,
    bap_uri: str,
    bpp_id: str,
    bpp_uri: str | None,
) -> list[Finding]:
    """A callback answers its request: ``on_<action>``, same transaction and message ids,
    the same participants."""
    name = f"{callback.action} {callback.message_id or ''}".strip()
    asked = request.context
    got = callback.context
    wanted: dict[str, Any] = {
        "action": f"on_{request.action}",
        "transaction_id": asked.get("transaction_id"),
        "message_id": asked.get("message_id"),
        "bap_id": bap_id,
        "bap_uri": bap_uri,
        "bpp_id": bpp_id,
    }
    if bpp_uri:
        wanted["bpp_uri"] = bpp_uri
    findings = []
    for key, value in wanted.items():
        if key.endswith("_uri"):
            same = isinstance(got.get(key), str) and got[key].rstrip("/") == value.rstrip("/")
        else:
            same = got.get(key) == value
        if not same:
            findings.append(
                Finding(
                    f"context.{key} ne correspond pas à la requête.",
                    f"context.{key} does not match the request.",
                    message=name,
                    path=f"context.{key}",
                    expected=value,
                    got=got.get(key),
                )
            )
    return findings


def ttl_seconds(value: Any, default: float = 30.0) -> float:
    """An ISO 8601 duration such as ``PT30S`` or ``PT1M`` in seconds."""
    from reseau_poles.protocol.models.scalars import duration_to_timedelta

    if not isinstance(value, str):
        return default
    try:
        return duration_to_timedelta(value).total_seconds()
    except (ValueError, TypeError):
        return default


def timing_findings(request: Sent, callback: Received | None, ttl: float) -> list[Finding]:
    """The callback came within ``ttl`` seconds of the request."""
    if callback is None:
        return [
            Finding(
                f"Aucun rappel on_{request.action} reçu (attendu dans les {ttl:g} s).",
                f"No on_{request.action} callback received (expected within {ttl:g} s).",
                message=request.name,
                path="context.message_id",
                expected=f"on_{request.action} ≤ {ttl:g} s",
                got=None,
            )
        ]
    delay = callback.received_at - request.sent_at
    if delay > ttl:
        return [
            Finding(
                f"Rappel on_{request.action} arrivé après le ttl de la requête.",
                f"on_{request.action} callback arrived after the request's ttl.",
                message=f"on_{request.action} {callback.message_id or ''}".strip(),
                path="context.ttl",
                expected=f"≤ {ttl:g} s",
                got=f"{delay:.2f} s",
            )
        ]
    return []


def callback_error_findings(callback: Received) -> list[Finding]:
    """A callback that carries an ``error`` instead of what was asked."""
    error = callback.payload.get("error") if isinstance(callback.payload, dict) else None
    if not error:
        return []
    return [
        Finding(
            "Le rappel porte une erreur au lieu de la réponse attendue.",
            "The callback carries an error instead of the expected answer.",
            message=callback.action,
            path="error",
            got=error,
        )
    ]
