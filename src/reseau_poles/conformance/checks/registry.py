"""The checks of a node's registration: its registry entry (type, address, keys, validity) and
its answer to the ``/on_subscribe`` challenge."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from reseau_poles.protocol.keys import (
    challenge_matches,
    decode_encryption_public_key,
    decode_signing_public_key,
)

from ..report import Finding
from .exchange import RegistryView


def registry_entry_findings(
    view: RegistryView, subscriber_id: str, beckn_type: str, *, now: datetime | None = None
) -> list[Finding]:
    now = now or datetime.now(UTC)
    if not view.records:
        return [
            Finding(
                f"{subscriber_id} est absent du lookup du registre (non inscrit, en attente "
                "d'approbation ou suspendu).",
                f"{subscriber_id} is not in the registry's lookup (not subscribed, awaiting "
                "approval, or suspended).",
                message="POST /lookup",
                path="subscriber_id",
                expected=subscriber_id,
                got=[],
            )
        ]
    findings = []
    for index, record in enumerate(view.records):
        where = f"[{index}]"
        if record.get("type") != beckn_type:
            findings.append(
                Finding(
                    "Type de participant inattendu.",
                    "Unexpected participant type.",
                    message="POST /lookup",
                    path=f"{where}.type",
                    expected=beckn_type,
                    got=record.get("type"),
                )
            )
        if record.get("status") not in (None, "SUBSCRIBED"):
            findings.append(
                Finding(
                    "Le participant n'est pas actif au registre.",
                    "The participant is not active in the registry.",
                    message="POST /lookup",
                    path=f"{where}.status",
                    expected="SUBSCRIBED",
                    got=record.get("status"),
                )
            )
        url = record.get("url") or record.get("subscriber_url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            findings.append(
                Finding(
                    "Adresse (url) absente ou invalide.",
                    "Missing or invalid address (url).",
                    message="POST /lookup",
                    path=f"{where}.url",
                    expected="http(s)://…",
                    got=url,
                )
            )
        for name, decode in (
            ("signing_public_key", decode_signing_public_key),
            ("encr_public_key", decode_encryption_public_key),
        ):
            try:
                decode(record.get(name) or "")
            except ValueError as exc:
                findings.append(
                    Finding(
                        f"Clé publique inutilisable : {exc}.",
                        f"Unusable public key: {exc}.",
                        message="POST /lookup",
                        path=f"{where}.{name}",
                        got=record.get(name),
                    )
                )
        until = _moment(record.get("valid_until"))
        if until is None or until <= now:
            findings.append(
                Finding(
                    "La clé n'est plus valide (valid_until passé ou illisible).",
                    "The key is no longer valid (valid_until past or unreadable).",
                    message="POST /lookup",
                    path=f"{where}.valid_until",
                    expected=f"> {now.isoformat(timespec='seconds')}",
                    got=record.get("valid_until"),
                )
            )
    return findings


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def challenge_findings(
    status: int | None, answer: bytes, challenge: str, *, error: str | None = None
) -> list[Finding]:
    where = "POST /on_subscribe"
    if status is None:
        return [
            Finding(
                f"/on_subscribe injoignable : {error}.",
                f"/on_subscribe unreachable: {error}.",
                message=where,
            )
        ]
    if not 200 <= status < 300:
        return [
            Finding(
                "Le défi n'a pas reçu de réponse 2xx.",
                "The challenge did not get a 2xx answer.",
                message=where,
                expected="HTTP 200",
                got=f"HTTP {status} {answer[:200].decode('utf-8', 'replace')}",
            )
        ]
    try:
        value = json.loads(answer).get("answer")
    except (ValueError, AttributeError):
        return [
            Finding(
                'Réponse illisible : {"answer": …} attendu.',
                'Unreadable answer: {"answer": …} expected.',
                message=where,
                got=answer[:200].decode("utf-8", "replace"),
            )
        ]
    if not challenge_matches(challenge, value):
        return [
            Finding(
                "Mauvaise réponse au défi : la boîte scellée n'a pas été ouverte avec la clé "
                "privée de encr_public_key.",
                "Wrong answer to the challenge: the sealed box was not opened with the private "
                "key of encr_public_key.",
                message=where,
                path="answer",
                expected=challenge,
                got=value,
            )
        ]
    return []
