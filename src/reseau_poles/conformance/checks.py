"""The checks of the conformance tester, without I/O: each takes what was sent and received
(bytes, headers, times, the registry's records) and returns the findings, an empty list when
all is well.

The scenarios (:mod:`.seller`, :mod:`.buyer`) do the talking and feed these functions; the
tests feed them hand-made bodies as well.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from reseau_poles.protocol import signing
from reseau_poles.protocol.errors import ProtocolError, SignatureError
from reseau_poles.protocol.keys import (
    challenge_matches,
    decode_encryption_public_key,
    decode_signing_public_key,
)
from reseau_poles.protocol.profile import (
    TPS_RATE,
    TVQ_RATE,
    parse_item_tags,
    parse_provider_tags,
    round_cents,
    to_decimal,
)

from .explain import explain
from .report import CheckSpec, Finding

ACK_BODY = {"message": {"ack": {"status": "ACK"}}}


def _spec(check_id: str, fr: str, en: str) -> CheckSpec:
    return CheckSpec(check_id, fr, en)


REGISTRY_ENTRY = _spec(
    "registre.inscription",
    "Inscription au registre (type, adresse, clés, validité)",
    "Registry entry (type, address, keys, validity)",
)
REGISTRY_KEY = _spec(
    "registre.cle",
    "La clé inscrite au registre est celle qui signe",
    "The key in the registry is the one the node signs with",
)
CHALLENGE = _spec(
    "defi.on_subscribe",
    "Défi /on_subscribe ouvert (boîte scellée pour la clé X25519 ; schéma d'ONDC : "
    "l'inscription au registre)",
    "/on_subscribe challenge opened (sealed box to the X25519 key; ONDC's scheme: the "
    "registry's subscription)",
)
ACK_SHAPE = _spec(
    "ack.forme",
    "Forme et codes des ACK et NACK",
    "ACK and NACK shapes and codes",
)
CALLBACK_SIGNATURE = _spec(
    "rappels.signature",
    "Signature BECKN-006 de chaque rappel",
    "BECKN-006 signature on every callback",
)
CALLBACK_TIMING = _spec(
    "rappels.delai",
    "Chaque rappel arrive à bap_uri dans le délai (ttl)",
    "Every callback reaches bap_uri within the ttl",
)
CALLBACK_CONTEXT = _spec(
    "rappels.contexte",
    "Contexte des rappels (action, transaction, message, participants)",
    "Callback context (action, transaction, message, participants)",
)
SCHEMA = _spec(
    "schema.messages",
    "Chaque message reçu est valide selon les schémas",
    "Every message received is valid against the schemas",
)
CATALOG_PROFILE = _spec(
    "profil.catalogue",
    "Catalogue : forme et étiquettes du profil québécois",
    "Catalog: shape and Québec profile tags",
)
QUOTE = _spec(
    "devis.taxes",
    "Devis : montants des lignes, TPS, TVQ, articles détaxés, total",
    "Quote: line amounts, GST (TPS), QST (TVQ), zero-rated items, total",
)
LIFECYCLE = _spec(
    "cycle.commande",
    "Cycle de vie : select → init → confirm → status → cancel",
    "Life cycle: select → init → confirm → status → cancel",
)
REPLAY = _spec(
    "refus.rejeu",
    "Un message rejoué est refusé (NACK)",
    "A replayed message is refused (NACK)",
)
EXPIRED = _spec(
    "refus.signature_expiree",
    "Une signature expirée est refusée (NACK)",
    "An expired signature is refused (NACK)",
)
FORGED = _spec(
    "refus.signature_invalide",
    "Un corps modifié après signature est refusé (NACK)",
    "A body changed after signing is refused (NACK)",
)
BUYER_REQUEST = _spec(
    "requetes.acheteur",
    "Requête search du nœud acheteur : signée, contexte juste",
    "The buyer node's search request: signed, right context",
)
CALLBACK_ACCEPTED = _spec(
    "rappel.accepte",
    "Un rappel valide de sa transaction est accepté (ACK)",
    "A valid callback for its transaction is accepted (ACK)",
)
UNKNOWN_TRANSACTION = _spec(
    "refus.transaction_inconnue",
    "Un rappel d'une transaction inconnue est refusé (NACK)",
    "A callback for an unknown transaction is refused (NACK)",
)

SELLER_CHECKS = (
    REGISTRY_ENTRY,
    REGISTRY_KEY,
    CHALLENGE,
    ACK_SHAPE,
    CALLBACK_SIGNATURE,
    CALLBACK_TIMING,
    CALLBACK_CONTEXT,
    SCHEMA,
    CATALOG_PROFILE,
    QUOTE,
    LIFECYCLE,
    REPLAY,
    EXPIRED,
    FORGED,
)
BUYER_CHECKS = (
    REGISTRY_ENTRY,
    REGISTRY_KEY,
    CHALLENGE,
    BUYER_REQUEST,
    SCHEMA,
    ACK_SHAPE,
    CALLBACK_ACCEPTED,
    UNKNOWN_TRANSACTION,
    REPLAY,
    EXPIRED,
    FORGED,
)


# --- what was exchanged ------------------------------------------------------------------


@dataclass
class Sent:
    """A request the tester sent and the synchronous answer."""

    action: str
    body: bytes
    headers: dict[str, str]
    sent_at: float  # unix seconds
    status: int | None = None
    answer: bytes = b""
    error: str | None = None  # the transport's failure (refused, timeout)
    label: str | None = None  # what the case is (« rejeu de status »)

    @property
    def name(self) -> str:
        return f"POST /{self.action}" + (f" ({self.label})" if self.label else "")

    @property
    def context(self) -> dict[str, Any]:
        try:
            return dict(json.loads(self.body)["context"])
        except (ValueError, KeyError, TypeError):
            return {}


@dataclass
class Received:
    """A message that reached the tester's server."""

    action: str
    body: bytes
    headers: dict[str, str]
    received_at: float  # unix seconds
    payload: Any = None

    def __post_init__(self) -> None:
        if self.payload is None:
            try:
                self.payload = json.loads(self.body)
            except ValueError:
                self.payload = None

    @property
    def context(self) -> dict[str, Any]:
        if isinstance(self.payload, dict) and isinstance(self.payload.get("context"), dict):
            return self.payload["context"]
        return {}

    @property
    def message_id(self) -> str | None:
        value = self.context.get("message_id")
        return value if isinstance(value, str) else None

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return None


@dataclass
class RegistryView:
    """What the registry's lookup said about a participant: one record per key."""

    records: list[dict[str, Any]] = field(default_factory=list)

    @property
    def keys(self) -> dict[str, str]:
        """key_id → signing public key."""
        found = {}
        for record in self.records:
            key_id = record.get("key_id") or record.get("ukId") or record.get("unique_key_id")
            if isinstance(key_id, str) and isinstance(record.get("signing_public_key"), str):
                found[key_id] = record["signing_public_key"]
        return found

    @property
    def url(self) -> str | None:
        for record in self.records:
            url = record.get("url") or record.get("subscriber_url")
            if isinstance(url, str):
                return url
        return None

    @property
    def encr_public_key(self) -> str | None:
        for record in self.records:
            if isinstance(record.get("encr_public_key"), str):
                return record["encr_public_key"]
        return None


# --- registry ----------------------------------------------------------------------------


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


# --- ACK and NACK ------------------------------------------------------------------------


def ack_findings(
    sent: Sent, expect: str, codes: Iterable[str] = (), statuses: Iterable[int] = ()
) -> list[Finding]:
    """The answer to ``sent``: ``expect`` is ``ACK`` (200, exactly the ACK body) or ``NACK``
    (4xx, ``message.ack.status`` NACK, an ``error`` with a ``code`` among ``codes`` when
    given, a ``message``)."""
    if sent.status is None:
        return [
            Finding(
                f"Pas de réponse : {sent.error}.",
                f"No answer: {sent.error}.",
                message=sent.name,
                expected=expect,
            )
        ]
    try:
        body = json.loads(sent.answer)
    except ValueError:
        body = None
    shown = sent.answer[:300].decode("utf-8", "replace")
    if expect == "ACK":
        findings = []
        if sent.status != 200:
            findings.append(
                Finding(
                    "ACK attendu avec HTTP 200.",
                    "ACK expected with HTTP 200.",
                    message=sent.name,
                    expected="HTTP 200",
                    got=f"HTTP {sent.status} {shown}",
                )
            )
        elif _ack_status(body) != "ACK":
            findings.append(
                Finding(
                    "Corps d'ACK inattendu.",
                    "Unexpected ACK body.",
                    message=sent.name,
                    path="message.ack.status",
                    expected=ACK_BODY,
                    got=shown,
                )
            )
        return findings
    findings = []
    wanted = set(statuses) or set(range(400, 500))
    if sent.status not in wanted:
        findings.append(
            Finding(
                "NACK attendu avec un statut HTTP 4xx."
                if sent.status < 300 or not statuses
                else "Statut HTTP inattendu pour ce NACK.",
                "NACK expected with an HTTP 4xx status."
                if sent.status < 300 or not statuses
                else "Unexpected HTTP status for this NACK.",
                message=sent.name,
                expected=f"HTTP {' | '.join(str(s) for s in sorted(wanted))}"
                if statuses
                else "HTTP 4xx",
                got=f"HTTP {sent.status} {shown}",
            )
        )
        if sent.status < 300:
            return findings
    if _ack_status(body) != "NACK":
        findings.append(
            Finding(
                "Le refus doit porter message.ack.status = NACK.",
                "A refusal must carry message.ack.status = NACK.",
                message=sent.name,
                path="message.ack.status",
                expected="NACK",
                got=shown,
            )
        )
        return findings
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    if not isinstance(code, str) or not code.isdigit():
        findings.append(
            Finding(
                "Le NACK doit porter error.code (chaîne de chiffres, série Beckn).",
                "A NACK must carry error.code (a string of digits, Beckn series).",
                message=sent.name,
                path="error.code",
                got=code,
            )
        )
    elif codes and code not in set(codes):
        findings.append(
            Finding(
                "Code d'erreur inattendu pour ce refus.",
                "Unexpected error code for this refusal.",
                message=sent.name,
                path="error.code",
                expected=sorted(set(codes)),
                got=code,
            )
        )
    if isinstance(error, dict) and not isinstance(error.get("message"), str):
        findings.append(
            Finding(
                "Le NACK devrait dire pourquoi (error.message).",
                "A NACK should say why (error.message).",
                message=sent.name,
                path="error.message",
                got=error.get("message"),
            )
        )
    return findings


def _ack_status(body: Any) -> Any:
    try:
        return body["message"]["ack"]["status"]
    except (KeyError, TypeError):
        return None


# --- signatures --------------------------------------------------------------------------


def signature_findings(
    received: Received,
    keys: Mapping[str, str],
    signer_id: str,
    *,
    now: float | None = None,
    skew: float = signing.DEFAULT_SKEW_SECONDS,
) -> tuple[list[Finding], list[Finding]]:
    """(key findings, signature findings) for one message ``signer_id`` sent: the keyId must
    name ``signer_id`` and a key of the registry (``keys``: key_id → public key), and the
    signature must hold over the bytes received. ``now`` is the arrival time."""
    name = f"{received.action} {received.message_id or ''}".strip()
    header = received.header(signing.AUTHORIZATION)
    try:
        parsed = signing.parse_header(header)
    except SignatureError as exc:
        finding = Finding(
            exc.message,
            explain(received.body, header, "").message_en,
            message=name,
            path=f"headers.{signing.AUTHORIZATION}",
            got=header,
        )
        return [], [finding]
    key_findings = []
    if parsed.subscriber_id != signer_id:
        key_findings.append(
            Finding(
                "keyId nomme un autre abonné.",
                "keyId names another subscriber.",
                message=name,
                path=f"headers.{signing.AUTHORIZATION}.keyId",
                expected=signer_id,
                got=parsed.subscriber_id,
            )
        )
    public_key = keys.get(parsed.key_id)
    if public_key is None:
        key_findings.append(
            Finding(
                "keyId nomme une clé absente du registre.",
                "keyId names a key that is not in the registry.",
                message=name,
                path=f"headers.{signing.AUTHORIZATION}.keyId",
                expected=sorted(keys),
                got=parsed.key_id,
            )
        )
        others = list(keys.values())
    else:
        others = [public_key]
    explained = [explain(received.body, header, key, now=now, skew=skew) for key in others]
    if any(e.valid for e in explained):
        return key_findings, []
    if public_key is not None:
        crypto = explained[0]
        if crypto.reason in ("signature_mismatch",):
            key_findings.append(
                Finding(
                    "La signature ne vérifie pas avec la clé inscrite au registre pour ce "
                    "keyId : le nœud signe avec une autre clé.",
                    "The signature does not verify with the key the registry holds for this "
                    "keyId: the node signs with another key.",
                    message=name,
                    path=f"headers.{signing.AUTHORIZATION}",
                    expected=public_key,
                )
            )
    first = explained[0] if explained else explain(received.body, header, "")
    finding = Finding(
        first.message_fr,
        first.message_en,
        message=name,
        path=f"headers.{signing.AUTHORIZATION}",
        got=header,
        signing_string=first.signing_string,
        digest=first.digest,
        hints=list(first.hints),
    )
    return key_findings, [finding]


# --- schemas and context -----------------------------------------------------------------


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
    wanted = {
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


# --- the Québec profile: catalog and quote -----------------------------------------------


@dataclass(frozen=True)
class CatalogItem:
    provider_id: str
    item_id: str
    price: Decimal
    taxable: bool | None
    minimum: int
    available: int | None
    fulfillment_ids: tuple[str, ...]


def _decimal(value: Any) -> Decimal | None:
    try:
        return to_decimal(value) if isinstance(value, str) else None
    except ProtocolError:
        return None


def catalog_findings(payload: Any) -> tuple[list[Finding], list[CatalogItem]]:
    """The catalog of an ``on_search``: providers with their legal form and region, items
    with a price in CAD as a decimal string, and the ``taxes`` and ``conservation`` groups.
    Returns the findings and the items read (for the quote check)."""
    name = "on_search"
    try:
        providers = payload["message"]["catalog"]["providers"]
    except (KeyError, TypeError):
        return [
            Finding(
                "Catalogue absent.",
                "No catalog.",
                message=name,
                path="message.catalog.providers",
            )
        ], []
    if not isinstance(providers, list):
        return [
            Finding(
                "providers doit être une liste.",
                "providers must be a list.",
                message=name,
                path="message.catalog.providers",
            )
        ], []
    findings: list[Finding] = []
    items: list[CatalogItem] = []
    for p, provider in enumerate(providers):
        at = f"message.catalog.providers[{p}]"
        if not isinstance(provider, dict):
            continue
        try:
            tags = parse_provider_tags(provider.get("tags"), path=f"{at}.tags")
        except ProtocolError as exc:
            findings.append(_profile_error(exc, name))
        else:
            for attribute, group in (("legal_form", "forme_juridique"), ("region", "region")):
                if getattr(tags, attribute) is None:
                    findings.append(
                        Finding(
                            f"Groupe d'étiquettes « {group} » absent du pôle.",
                            f"Tag group “{group}” missing on the provider.",
                            message=name,
                            path=f"{at}.tags",
                            expected=group,
                            got=_codes(provider.get("tags")),
                        )
                    )
        for i, item in enumerate(provider.get("items") or []):
            where = f"{at}.items[{i}]"
            if not isinstance(item, dict):
                continue
            price = item.get("price") if isinstance(item.get("price"), dict) else {}
            if price.get("currency") != "CAD":
                findings.append(
                    Finding(
                        "Prix attendu en CAD.",
                        "Price expected in CAD.",
                        message=name,
                        path=f"{where}.price.currency",
                        expected="CAD",
                        got=price.get("currency"),
                    )
                )
            value = _decimal(price.get("value"))
            if value is None:
                findings.append(
                    Finding(
                        "Prix attendu en chaîne décimale.",
                        "Price expected as a decimal string.",
                        message=name,
                        path=f"{where}.price.value",
                        expected='"12.50"',
                        got=price.get("value"),
                    )
                )
            taxable = None
            try:
                item_tags = parse_item_tags(item.get("tags"), path=f"{where}.tags")
            except ProtocolError as exc:
                findings.append(_profile_error(exc, name))
            else:
                taxable = item_tags.taxable
                for attribute, group in (("taxable", "taxes"), ("conservation", "conservation")):
                    if getattr(item_tags, attribute) is None:
                        findings.append(
                            Finding(
                                f"Groupe d'étiquettes « {group} » absent de l'article.",
                                f"Tag group “{group}” missing on the item.",
                                message=name,
                                path=f"{where}.tags",
                                expected=group,
                                got=_codes(item.get("tags")),
                            )
                        )
            if value is not None and isinstance(item.get("id"), str):
                quantity = item.get("quantity") if isinstance(item.get("quantity"), dict) else {}
                items.append(
                    CatalogItem(
                        provider_id=str(provider.get("id")),
                        item_id=item["id"],
                        price=value,
                        taxable=taxable,
                        minimum=_count(quantity.get("minimum")) or 1,
                        available=_count(quantity.get("available")),
                        fulfillment_ids=tuple(
                            f for f in item.get("fulfillment_ids") or [] if isinstance(f, str)
                        ),
                    )
                )
    return findings, items


def _count(value: Any) -> int | None:
    if isinstance(value, dict) and isinstance(value.get("count"), int):
        return int(value["count"])
    return None


def _codes(tags: Any) -> list[Any]:
    if not isinstance(tags, list):
        return []
    return [
        (group.get("descriptor") or {}).get("code") for group in tags if isinstance(group, dict)
    ]


def _profile_error(exc: ProtocolError, name: str) -> Finding:
    return Finding(
        exc.message,
        f"Québec profile: {exc.message}",
        message=name,
        path=exc.path,
    )


@dataclass(frozen=True)
class QuotedLine:
    """What the tester asked for: an item, its count, and what the catalog said of it."""

    item: CatalogItem
    count: int


def _is_tax_line(title: Any, label: str) -> bool:
    return isinstance(title, str) and title.strip().upper().startswith(label)


def quote_findings(payload: Any, lines: Sequence[QuotedLine]) -> list[Finding]:
    """The quote of an ``on_select``: each item line is its unit price × count (rounded to
    the cent), a zero-rated item carries no tax, TPS and TVQ are the sums of the per-line
    taxes (5 % and 9.975 %, each rounded to the cent, halves up), and the total adds up."""
    name = "on_select"
    base = "message.order.quote"
    try:
        quote = payload["message"]["order"]["quote"]
        breakup = quote["breakup"]
    except (KeyError, TypeError):
        return [
            Finding(
                "Devis absent (message.order.quote.breakup).",
                "No quote (message.order.quote.breakup).",
                message=name,
                path=f"{base}.breakup",
            )
        ]
    wanted = {line.item.item_id: line for line in lines}
    findings: list[Finding] = []
    total = Decimal(0)
    tps_expected = Decimal(0)
    tvq_expected = Decimal(0)
    tps_got: Decimal | None = None
    tvq_got: Decimal | None = None
    others: list[Decimal] = []
    seen: set[str] = set()
    for k, line in enumerate(breakup if isinstance(breakup, list) else []):
        at = f"{base}.breakup[{k}]"
        price = line.get("price") if isinstance(line, dict) else None
        amount = _decimal(price.get("value")) if isinstance(price, dict) else None
        if amount is None:
            findings.append(
                Finding(
                    "Montant de ligne illisible.",
                    "Unreadable line amount.",
                    message=name,
                    path=f"{at}.price.value",
                    got=price,
                )
            )
            continue
        if isinstance(price, dict) and price.get("currency") != "CAD":
            findings.append(
                Finding(
                    "Montant attendu en CAD.",
                    "Amount expected in CAD.",
                    message=name,
                    path=f"{at}.price.currency",
                    expected="CAD",
                    got=price.get("currency"),
                )
            )
        total += amount
        title = line.get("title")
        item = line.get("item") if isinstance(line.get("item"), dict) else None
        if item is not None and item.get("id") in wanted:
            asked = wanted[item["id"]]
            seen.add(item["id"])
            expected = round_cents(asked.item.price * asked.count)
            if amount != expected:
                findings.append(
                    Finding(
                        f"Montant de la ligne {item['id']} : prix unitaire × quantité "
                        f"({asked.item.price} × {asked.count}).",
                        f"Amount of line {item['id']}: unit price × quantity "
                        f"({asked.item.price} × {asked.count}).",
                        message=name,
                        path=f"{at}.price.value",
                        expected=f"{expected:.2f}",
                        got=price.get("value"),
                    )
                )
            if asked.item.taxable is None:
                # The catalog did not say (profil.catalogue reports it): either is accepted.
                others.append(amount)
                continue
            taxable = asked.item.taxable
            tps = round_cents(amount * TPS_RATE) if taxable else Decimal("0.00")
            tvq = round_cents(amount * TVQ_RATE) if taxable else Decimal("0.00")
            tps_expected += tps
            tvq_expected += tvq
            findings.extend(_line_tax_findings(item, at, tps, tvq, taxable))
        elif _is_tax_line(title, "TPS"):
            tps_got = amount
        elif _is_tax_line(title, "TVQ"):
            tvq_got = amount
        else:
            others.append(amount)
    for missing in sorted(set(wanted) - seen):
        findings.append(
            Finding(
                f"L'article {missing} demandé n'a pas de ligne au devis.",
                f"Item {missing} asked for has no line in the quote.",
                message=name,
                path=f"{base}.breakup",
                expected=missing,
            )
        )
    # Fees (delivery…) are taxable or not at the seller's choice: any choice is accepted.
    # (At most four such lines are combined; beyond, the others count as taxable.)
    choices_tps: set[Decimal] = set()
    choices_tvq: set[Decimal] = set()
    combined = min(len(others), 4)
    for chosen in itertools.product((False, True), repeat=combined):
        flags = (*chosen, *(True,) * (len(others) - combined))
        taxed = [amount for amount, flag in zip(others, flags, strict=True) if flag]
        choices_tps.add(tps_expected + sum((round_cents(a * TPS_RATE) for a in taxed), Decimal(0)))
        choices_tvq.add(tvq_expected + sum((round_cents(a * TVQ_RATE) for a in taxed), Decimal(0)))
    for label, got, choices in (("TPS", tps_got, choices_tps), ("TVQ", tvq_got, choices_tvq)):
        zero = choices == {Decimal(0)}
        if got is None and zero:
            continue
        if got is None or got not in choices:
            findings.append(
                Finding(
                    f"Ligne {label} : somme des taxes de chaque ligne taxable, arrondies au "
                    "cent (articles détaxés exclus).",
                    f"{label} line: sum of the taxes of each taxable line, rounded to the cent "
                    "(zero-rated items excluded).",
                    message=name,
                    path=f"{base}.breakup[title={label}]",
                    expected=" | ".join(f"{c:.2f}" for c in sorted(choices)),
                    got=None if got is None else f"{got:.2f}",
                )
            )
    declared = quote.get("price") if isinstance(quote.get("price"), dict) else {}
    declared_value = _decimal(declared.get("value"))
    if declared_value != total:
        findings.append(
            Finding(
                "Le total du devis n'est pas la somme de ses lignes.",
                "The quote's total is not the sum of its lines.",
                message=name,
                path=f"{base}.price.value",
                expected=f"{total:.2f}",
                got=declared.get("value"),
            )
        )
    return findings


def _line_tax_findings(
    item: Mapping[str, Any], at: str, tps: Decimal, tvq: Decimal, taxable: bool
) -> list[Finding]:
    """The per-line tax tags (``taxes_ligne``), when the seller gives them."""
    findings = []
    for g, group in enumerate(item.get("tags") or []):
        if not isinstance(group, dict):
            continue
        for t, entry in enumerate(group.get("list") or []):
            if not isinstance(entry, dict):
                continue
            code = (entry.get("descriptor") or {}).get("code")
            expected = {"tps": tps, "tvq": tvq}.get(code)
            if expected is None:
                continue
            value = _decimal(entry.get("value"))
            if value != expected:
                findings.append(
                    Finding(
                        f"{code.upper()} de la ligne"
                        + (" (article détaxé : 0.00)" if not taxable else "")
                        + ".",
                        f"Line {code.upper()}"
                        + (" (zero-rated item: 0.00)" if not taxable else "")
                        + ".",
                        message="on_select",
                        path=f"{at}.item.tags[{g}].list[{t}].value",
                        expected=f"{expected:.2f}",
                        got=entry.get("value"),
                    )
                )
    return findings


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
