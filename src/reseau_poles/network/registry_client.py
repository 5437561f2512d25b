"""Talking to a registry from the outside: build and sign a subscribe record, call the operator
API with a signed request, check the signature of a lookup answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

import httpx

from reseau_poles.protocol.dates import rfc3339
from reseau_poles.protocol.errors import ErrorCode
from reseau_poles.protocol.jsonfast import wire
from reseau_poles.protocol.keys import SubscriberKeys
from reseau_poles.protocol.signing import SignatureHeader, Signer, verify

DEFAULT_KEY_LIFETIME = timedelta(days=365)


def build_record(
    keys: SubscriberKeys,
    *,
    url: str,
    type: str,
    domains: list[str],
    regions: list[str],
    country: str = "CAN",
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
) -> dict[str, Any]:
    """The body of ``POST /subscribe`` for ``keys`` (key window: now → one year by default)."""
    start = valid_from or datetime.now(UTC).replace(microsecond=0)
    return {
        "subscriber_id": keys.subscriber_id,
        "url": url,
        "type": type.upper(),
        "domains": domains,
        "regions": regions,
        "country": country,
        "key_id": keys.key_id,
        "signing_public_key": keys.signing.public_key_b64,
        "encr_public_key": keys.encryption.public_key_b64,
        "valid_from": rfc3339(start),
        "valid_until": rfc3339(valid_until or start + DEFAULT_KEY_LIFETIME),
    }


def encode(payload: dict[str, Any] | bytes) -> bytes:
    if isinstance(payload, bytes):
        return payload
    return wire(payload)


def signer_for(keys: SubscriberKeys) -> Signer:
    return Signer(keys.subscriber_id, keys.key_id, keys.signing)


def post_signed(
    http: httpx.Client, url: str, payload: dict[str, Any] | bytes, signer: Signer
) -> httpx.Response:
    """POST exactly the bytes that were signed."""
    body = encode(payload)
    return http.post(
        url,
        content=body,
        headers={"Content-Type": "application/json", "Authorization": signer.sign(body)},
    )


def subscribe(
    registry_url: str,
    keys: SubscriberKeys,
    *,
    url: str,
    type: str,
    domains: list[str],
    regions: list[str],
    country: str = "CAN",
    signer: Signer | None = None,
    timeout: float = 30.0,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
) -> dict[str, Any]:
    """Subscribe ``keys`` (or update the subscription) at ``{registry_url}/subscribe``: the
    record signed by ``signer`` (default: the key it registers); the registry then posts its
    challenge to ``{url}/on_subscribe``, which must answer while this call waits. Returns the
    ACK's ``subscriber`` part (``status``: SUBSCRIBED, or UNDER_SUBSCRIPTION awaiting the
    operator; ``action``); raises :class:`RegistryRefusal` on a NACK, ``httpx.HTTPError``
    when the registry cannot be reached."""
    record = build_record(
        keys,
        url=url,
        type=type,
        domains=domains,
        regions=regions,
        country=country,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    with httpx.Client(timeout=timeout) as http:
        response = post_signed(
            http, f"{registry_url.rstrip('/')}/subscribe", record, signer or signer_for(keys)
        )
    answer = raise_for_nack(response)
    subscriber = answer.get("subscriber") if isinstance(answer, dict) else None
    return subscriber if isinstance(subscriber, dict) else {}


def lookup(registry_url: str, *, timeout: float, **filters: Any) -> Any:
    """``POST {registry_url}/lookup`` with ``filters``: the registry's answer, read as JSON
    (not checked against its signature: :func:`verify_lookup_answer` does that). Raises
    ``httpx.HTTPError`` (including an HTTP error status) or ``ValueError`` (not JSON)."""
    response = httpx.post(f"{registry_url.rstrip('/')}/lookup", json=filters, timeout=timeout)
    response.raise_for_status()
    return response.json()


def unreachable(registry_url: str | None, exc: BaseException) -> str:
    """What every caller says when a call to the registry got no answer (``httpx.HTTPError``)."""
    return f"registre injoignable ({type(exc).__name__}) : {registry_url}"


class RegistryRefusal(Exception):
    """The registry answered with a NACK (or an HTTP error)."""

    def __init__(self, status: int, code: str, message: str, path: str | None) -> None:
        super().__init__(f"HTTP {status}, code {code} : {message}" + (f" ({path})" if path else ""))
        self.status = status
        self.code = code
        self.message = message
        self.path = path


def raise_for_nack(response: httpx.Response) -> Any:
    try:
        data = response.json()
    except ValueError:
        data = None
    if response.is_success:
        return data
    error = (data or {}).get("error") if isinstance(data, dict) else None
    error = error or {}
    raise RegistryRefusal(
        response.status_code,
        str(error.get("code", response.status_code)),
        str(error.get("message", response.text[:200])),
        error.get("paths"),
    )


class AdminClient:
    """The operator API, each request signed with the operator's key."""

    def __init__(self, base_url: str, signer: Signer, *, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.signer = signer
        # A registry on http:// (the operator on its host: the default --registry) has no TLS
        # to verify, and httpx would load every certificate authority for nothing (~30 ms of
        # each operator command); requests stay on base_url (no redirects followed).
        plain = self.base_url.lower().startswith("http://")
        self.http = httpx.Client(base_url=self.base_url, timeout=timeout, verify=not plain)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> AdminClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def get(self, path: str, **params: Any) -> Any:
        query = {k: v for k, v in params.items() if v is not None}
        response = self.http.get(
            path, params=query, headers={"Authorization": self.signer.sign(b"")}
        )
        return raise_for_nack(response)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return raise_for_nack(post_signed(self.http, path, body, self.signer))

    def subscribers(self, **filters: Any) -> dict[str, Any]:
        return cast(dict[str, Any], self.get("/admin/subscribers", **filters))

    def subscriber(self, subscriber_id: str) -> dict[str, Any]:
        return cast(dict[str, Any], self.get(f"/admin/subscribers/{subscriber_id}"))

    def change(self, action: str, subscriber_id: str, reason: str | None = None) -> dict[str, Any]:
        body = {"action": action, "subscriber_id": subscriber_id, "reason": reason}
        return cast(dict[str, Any], self.post(f"/admin/subscribers/{subscriber_id}/{action}", body))

    def revoke_key(self, subscriber_id: str, key_id: str, reason: str | None = None) -> Any:
        body = {
            "action": "revoke_key",
            "subscriber_id": subscriber_id,
            "key_id": key_id,
            "reason": reason,
        }
        return self.post(f"/admin/subscribers/{subscriber_id}/keys/{key_id}/revoke", body)

    def add_key(
        self,
        subscriber_id: str,
        public_record: dict[str, Any],
        *,
        reset: bool = False,
        valid_days: int | None = None,
        reason: str | None = None,
    ) -> dict[str, Any]:
        """Register a participant's new key (its ``keys.json``: ``key_id``,
        ``signing_public_key``, ``encr_public_key``); ``reset`` revokes its other keys."""
        body: dict[str, Any] = {
            "action": "reset_key" if reset else "add_key",
            "subscriber_id": subscriber_id,
            "key_id": public_record.get("key_id"),
            "signing_public_key": public_record.get("signing_public_key"),
            "encr_public_key": public_record.get("encr_public_key"),
            "reason": reason,
        }
        if valid_days is not None:
            body["valid_days"] = valid_days
        return cast(dict[str, Any], self.post(f"/admin/subscribers/{subscriber_id}/keys", body))

    def register(
        self,
        subscriber_id: str,
        public_record: dict[str, Any],
        *,
        url: str,
        type: str,
        domains: list[str],
        regions: list[str],
        country: str = "CAN",
        valid_days: int | None = None,
        reason: str | None = None,
    ) -> dict[str, Any]:
        """Register a participant without a challenge (a third-party stack), on the operator's
        word: its public keys (``keys.json``) and its record."""
        body: dict[str, Any] = {
            "action": "register",
            "subscriber_id": subscriber_id,
            "key_id": public_record.get("key_id"),
            "signing_public_key": public_record.get("signing_public_key"),
            "encr_public_key": public_record.get("encr_public_key"),
            "url": url,
            "type": type,
            "domains": domains,
            "regions": regions,
            "country": country,
            "reason": reason,
        }
        if valid_days is not None:
            body["valid_days"] = valid_days
        return cast(dict[str, Any], self.post(f"/admin/subscribers/{subscriber_id}/register", body))

    def reject(self, subscriber_id: str, reason: str | None = None) -> dict[str, Any]:
        body = {"action": "reject", "subscriber_id": subscriber_id, "reason": reason}
        return cast(dict[str, Any], self.post(f"/admin/subscribers/{subscriber_id}/reject", body))

    def expiring_keys(self, within_days: int = 30) -> list[dict[str, Any]]:
        return cast(list[dict[str, Any]], self.get("/admin/keys/expiring", within_days=within_days))

    def audit(self, **filters: Any) -> list[dict[str, Any]]:
        return cast(list[dict[str, Any]], self.get("/admin/audit", **filters))

    def stats(self) -> dict[str, Any]:
        return cast(dict[str, Any], self.get("/admin/stats"))


def verify_lookup_answer(
    response: httpx.Response, registry_public_key: str, *, registry_id: str | None = None
) -> SignatureHeader:
    """Check that a lookup answer was signed by the registry, over the exact body received."""
    return verify(
        response.content,
        response.headers.get("authorization"),
        registry_public_key,
        expected_subscriber_id=registry_id,
        invalid_code=ErrorCode.REGISTRY_INVALID_SIGNATURE,
    )
