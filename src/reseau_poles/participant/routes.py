"""The routes every participant (seller node, buyer node, gateway) has, written once.

GET  /health        liveness, the role's own figures, and when our key expires
                    (:class:`~reseau_poles.network.rotation.KeyExpiryWatch`, checked in the
                    background from start-up: :func:`watching_key`)
POST /on_subscribe  the registry's challenge, sealed to our encryption key (or to the key that
                    ``rotate-key`` is registering), or in ONDC's scheme: we answer the clear
                    text; a challenge for another subscriber, or one we cannot open, is a NACK
                    naming the field

A role gives what is its own: the body of its ``/health`` and the words of its refusals; the
OpenAPI text of each route (summary, description, tags, answer model) stays the role's.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from reseau_poles.network.acks import JSON_CONTENT_TYPE, nack_body
from reseau_poles.network.rotation import KeyExpiryWatch, answer_registry_challenge
from reseau_poles.network.transcript import Transcript
from reseau_poles.protocol.errors import ErrorCode, ProtocolError
from reseau_poles.protocol.keys import SubscriberKeys

from .settings import ParticipantSettings

NOT_OURS = "défi destiné à un autre abonné"


def key_expiry_watch(
    settings: ParticipantSettings, keys: SubscriberKeys, rotate_command: str
) -> KeyExpiryWatch:
    """When our key expires, according to the registry: warned about ``key_expiry_warning_days``
    ahead, checked every ``key_check_interval_hours``."""
    return KeyExpiryWatch(
        settings.registry_url,
        keys,
        warn_days=settings.key_expiry_warning_days,
        interval=settings.key_check_interval_hours * 3600,
        rotate_command=rotate_command,
    )


@contextlib.asynccontextmanager
async def watching_key(key_watch: KeyExpiryWatch) -> AsyncIterator[None]:
    """The watch runs in the background while the application does."""
    watching = asyncio.create_task(key_watch.run(), name="échéance de la clé")
    try:
        yield
    finally:
        watching.cancel()


def _documented(endpoint: Callable[..., Any], description: str | None) -> Callable[..., Any]:
    # FastAPI takes a route's description from its endpoint's docstring: the role's words.
    endpoint.__doc__ = description
    return endpoint


def add_health(
    app: FastAPI,
    key_watch: KeyExpiryWatch,
    status: Callable[[], dict[str, Any]],
    *,
    description: str | None = None,
    **route: Any,
) -> None:
    """``GET /health``: ``status()`` (the role's figures) and ``key``, our key's expiry."""

    async def health() -> dict[str, Any]:
        return {**status(), "key": key_watch.report()}

    app.get("/health", **route)(_documented(health, description))


def add_on_subscribe(
    app: FastAPI,
    settings: ParticipantSettings,
    keys: SubscriberKeys,
    *,
    invalid_code: ErrorCode,
    unreadable: str = "défi illisible",
    answered: Callable[[dict[str, Any]], None] | None = None,
    description: str | None = None,
    transcript: Transcript | None = None,
    **route: Any,
) -> None:
    """``POST /on_subscribe``: the registry's challenge for ``settings.subscriber_id``.

    A ``subscriber_id`` other than ours is refused (``subscriber_id``), as is a challenge we
    cannot read or open (``challenge``, ``unreadable``): a NACK with ``invalid_code``, 400.
    ``answered(body)`` runs once the challenge is answered (the gateway logs it). The exchange
    goes into ``transcript`` when the node keeps one: the registry's challenge is part of the
    network's protocol (a vendor checks there which scheme it came in)."""

    def nack(message: str, path: str) -> Response:
        error = ProtocolError(message, code=invalid_code, path=path)
        return Response(nack_body(error), status_code=400, media_type=JSON_CONTENT_TYPE)

    async def on_subscribe(request: Request) -> Response:
        started = time.perf_counter()
        raw = await request.body()
        response = await _answer(raw)
        if transcript is not None:
            transcript.inbound(
                request.url.path,
                dict(request.headers),
                raw,
                response.status_code,
                bytes(response.body),
                time.perf_counter() - started,
                answered=True,
            )
        return response

    async def _answer(raw: bytes) -> Response:
        try:
            body = json.loads(raw)
            challenge = body["challenge"]
            if body.get("subscriber_id") not in (None, settings.subscriber_id):
                return nack(NOT_OURS, "subscriber_id")
            if not isinstance(challenge, str):
                raise TypeError("challenge")
            answer = await answer_registry_challenge(
                keys,
                settings.key_dir,
                challenge,
                registry_encryption_key=settings.registry_encryption_public_key,
                registry_url=settings.registry_url,
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return nack(unreadable, "challenge")
        if answered is not None:
            answered(body)
        return JSONResponse({"answer": answer})

    app.post("/on_subscribe", **route)(_documented(on_subscribe, description))
