"""What the roles' HTTP routes answer when they succeed, described for the OpenAPI documents.

The answers are built by hand (dicts, ``JSONResponse``, CSV and HTML bodies) and stay so: the
models here **document** them, they never filter nor re-serialise what a route returns. A route
declares its answer with :func:`answers` (``responses={200: {"model": M}}`` for FastAPI), and
``tests/contract/test_answers_match_documents.py`` checks real answers of the running roles
against the published schemas, so the description cannot drift from what is sent.

:class:`Answer` is the base of every such model: it forbids fields it does not name, so a
field added to an answer without its description fails that test. A field always sent has no
default (required in the schema); one sent only sometimes has ``None`` as its default.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# A datetime as the nodes write it: RFC 3339, UTC (``2026-11-26T14:05:00Z``).
MOMENT_FORMAT = "date-time"


class Answer(BaseModel):
    """Base of the documented answers: every field named, no other."""

    model_config = ConfigDict(extra="forbid")


def answers(
    model: Any, *statuses: int, description: str = "OK", media_type: str | None = None
) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route answering ``model`` with each of ``statuses`` (200 when
    none): documentation only, what the route returns is left as it is."""
    found: dict[int | str, dict[str, Any]] = {}
    for status in statuses or (200,):
        entry: dict[str, Any] = {"model": model, "description": description}
        if media_type is not None:
            entry["content"] = {media_type: {}}
        found[status] = entry
    return found


def text_answer(
    description: str, *media_types: str, status: int = 200, json_model: Any = None
) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route answering text (CSV, HTML, an event stream), and JSON with
    ``json_model`` when it also may."""
    content: dict[str, Any] = {media: {"schema": {"type": "string"}} for media in media_types}
    entry: dict[str, Any] = {"description": description, "content": content}
    if json_model is not None:
        entry["model"] = json_model
    return {status: entry}


# --- pieces shared by several answers -----------------------------------------------------------


class Amount(Answer):
    """An amount in Canadian dollars, as text with two decimals (``"24.50"``)."""

    currency: str = Field(description="Toujours `CAD`.", examples=["CAD"])
    value: str = Field(description="Montant, deux décimales.", examples=["24.50"])


class KeyExpiry(Answer):
    """The node's signing key as the registry lists it (``/health``)."""

    key_id: str = Field(description="Identifiant de la clé de signature du nœud.")
    valid_until: str | None = Field(
        description="Fin de validité selon le registre ; `null` tant que non vérifiée."
    )
    days_left: float | None = Field(description="Jours avant l'échéance (une décimale).")
    expires_soon: bool = Field(description="L'échéance approche : préparer la rotation.")
    listed: bool | None = Field(
        description="Le registre liste cette clé ; `null` tant que non vérifié."
    )
    checked_at: str | None = Field(description="Dernière vérification auprès du registre.")


class NodeHealth(Answer):
    """``GET /health`` of a buyer or seller node."""

    status: str = Field(description="`ok` quand le nœud répond.", examples=["ok"])
    subscriber_id: str = Field(description="Identifiant du nœud au registre.")
    key: KeyExpiry


class ChallengeAnswer(Answer):
    """The answer to the registry's challenge (``POST /on_subscribe``): the plain text."""

    answer: str = Field(description="Le défi déchiffré, tel quel.")


# --- webhooks (both nodes) ----------------------------------------------------------------------


class Webhook(Answer):
    """A webhook subscription, without its secret."""

    id: int = Field(description="Numéro de l'abonnement.")
    url: str = Field(description="Adresse qui reçoit les événements (https).")
    event_types: list[str] = Field(description="Types d'événements reçus (`*` : tous).")
    description: str | None
    active: bool
    secret_prefix: str = Field(description="Début du secret, pour le reconnaître.")
    needs_new_secret: bool = Field(
        description="Le nœud ne peut plus ouvrir ce secret : réabonner l'adresse."
    )
    created_at: str | None = Field(description="Création (RFC 3339).")


class WebhookCreated(Webhook):
    """A new subscription, with its secret: shown only in this answer."""

    secret: str = Field(description="Secret de signature HMAC-SHA256 ; montré une seule fois.")


class WebhookList(Answer):
    """The owner's subscriptions, and the event types it may subscribe to."""

    webhooks: list[Webhook]
    event_types: list[str] = Field(description="Types d'événements que ce nœud émet.")


class WebhookDelivery(Answer):
    """One delivery of an event to a subscription."""

    event_id: str = Field(description="`evt_…`, identique à chaque essai.")
    event_type: str
    status: str = Field(description="`pending`, `delivering`, `delivered`, `failed` ou `expired`.")
    attempts: int
    last_http_status: int | None
    last_error: str | None
    created_at: str | None
    next_attempt_at: str | None
    delivered_at: str | None


class WebhookDeliveries(Answer):
    """The newest deliveries of a subscription, newest first."""

    deliveries: list[WebhookDelivery]
