"""The attack table: each attack builds what an attacker sends to a target (body and
headers) and says which answer it must get. Shared by the tests and the report.

An attack never needs more than the public registry and its own keys: the impostor signs
with its own key, replays what it saw on the wire, or forges headers by hand.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from reseau_poles.protocol.signing import GATEWAY_AUTHORIZATION, Signer, build_header, parse_header
from tests.reliability.support import AttackWorld, SubscriberKeys, Target, signer_of

Headers = dict[str, str]


@dataclass(frozen=True)
class Attack:
    name: str
    label: str  # French, for the report
    # (world, target) -> list of (body, headers) to send; the last answer is the one judged,
    # the earlier ones (a replay's first copy) must be accepted.
    build: Callable[[AttackWorld, Target], list[tuple[bytes, Headers]]]
    status: int = 401
    code: str = "signature"  # "signature", "stale", "request": the target's code of that kind
    beckn_only: bool = False  # not for the registry's operator API


def _signed(world: AttackWorld, target: Target, **sign: int) -> tuple[bytes, Headers]:
    body = target.body(target.keys)
    return body, {"Authorization": signer_of(target.keys).sign(body, **sign)}


def _rewrite(header: str, **fields: object) -> str:
    parsed = parse_header(header)
    values = {
        "created": parsed.created,
        "expires": parsed.expires,
        "algorithm": parsed.algorithm,
        "key_algorithm": parsed.key_algorithm,
        "headers": parsed.headers,
    }
    subscriber_id = str(fields.pop("subscriber_id", parsed.subscriber_id))
    key_id = str(fields.pop("key_id", parsed.key_id))
    signature = str(fields.pop("signature", parsed.signature))
    values.update(fields)
    return build_header(subscriber_id, key_id, signature, **values)  # type: ignore[arg-type]


def unsigned(world: AttackWorld, target: Target) -> list[tuple[bytes, Headers]]:
    return [(target.body(target.keys), {})]


def tampered_body(world: AttackWorld, target: Target) -> list[tuple[bytes, Headers]]:
    body, headers = _signed(world, target)
    # Flip the case of the last ASCII letter: still valid JSON, one byte changed.
    index = max(i for i, byte in enumerate(body) if chr(byte).isascii() and chr(byte).isalpha())
    tampered = body[:index] + bytes([body[index] ^ 0x20]) + body[index + 1 :]
    assert len(tampered) == len(body) and tampered != body
    return [(tampered, headers)]


def tampered_created(world: AttackWorld, target: Target) -> list[tuple[bytes, Headers]]:
    body, headers = _signed(world, target)
    created = parse_header(headers["Authorization"]).created
    return [(body, {"Authorization": _rewrite(headers["Authorization"], created=created - 1)})]


def tampered_expires(world: AttackWorld, target: Target) -> list[tuple[bytes, Headers]]:
    body, headers = _signed(world, target)
    expires = parse_header(headers["Authorization"]).expires
    return [(body, {"Authorization": _rewrite(headers["Authorization"], expires=expires + 600)})]


def expired(world: AttackWorld, target: Target) -> list[tuple[bytes, Headers]]:
    now = int(time.time())
    return [_signed(world, target, created=now - 600, expires=now - 60)]


def future_dated(world: AttackWorld, target: Target) -> list[tuple[bytes, Headers]]:
    now = int(time.time())
    return [_signed(world, target, created=now + 600, expires=now + 900)]


def long_lived(world: AttackWorld, target: Target) -> list[tuple[bytes, Headers]]:
    """Valid for a year: once the replay guard forgets it (after an hour at most, or a
    restart), it could be replayed; refused up front."""
    now = int(time.time())
    return [_signed(world, target, created=now, expires=now + 365 * 86_400)]


def wrong_algorithm(world: AttackWorld, target: Target) -> list[tuple[bytes, Headers]]:
    body, headers = _signed(world, target)
    return [(body, {"Authorization": _rewrite(headers["Authorization"], algorithm="rsa-sha256")})]


def unknown_key_id(world: AttackWorld, target: Target) -> list[tuple[bytes, Headers]]:
    keys = target.keys
    body = target.body(keys)
    signer = Signer(keys.subscriber_id, "cle-inconnue-404", keys.signing)
    return [(body, {"Authorization": signer.sign(body)})]


def another_subscribers_key(world: AttackWorld, target: Target) -> list[tuple[bytes, Headers]]:
    """The impostor names the victim's key but can only sign with its own."""
    victim = target.keys
    body = target.body(victim)
    forged = Signer(victim.subscriber_id, victim.key_id, world.other.signing)
    return [(body, {"Authorization": forged.sign(body)})]


def signer_not_sender(world: AttackWorld, target: Target) -> list[tuple[bytes, Headers]]:
    """A valid signature by a registered subscriber on a message that names someone else."""
    body = target.body(target.keys)
    return [(body, {"Authorization": signer_of(world.other).sign(body)})]


def _as(keys: SubscriberKeys, target: Target) -> list[tuple[bytes, Headers]]:
    body = target.body(keys)
    return [(body, {"Authorization": signer_of(keys).sign(body)})]


def revoked_key(world: AttackWorld, target: Target) -> list[tuple[bytes, Headers]]:
    return _as(world.revoked_bpp if target.role == "BAP" else world.revoked, target)


def suspended_subscriber(world: AttackWorld, target: Target) -> list[tuple[bytes, Headers]]:
    return _as(world.suspended_bpp if target.role == "BAP" else world.suspended, target)


def replayed(world: AttackWorld, target: Target) -> list[tuple[bytes, Headers]]:
    sent = _signed(world, target)
    return [sent, sent]


def gateway_header_forged(world: AttackWorld, target: Target) -> list[tuple[bytes, Headers]]:
    """A participant that is not a gateway signs ``X-Gateway-Authorization``."""
    body, headers = _signed(world, target)
    headers[GATEWAY_AUTHORIZATION] = signer_of(world.impostor_gateway).sign(body)
    return [(body, headers)]


def gateway_key_forged(world: AttackWorld, target: Target) -> list[tuple[bytes, Headers]]:
    """The gateway's name and key id, signed with someone else's key."""
    body, headers = _signed(world, target)
    gateway = world.gateway_keys
    forged = Signer(gateway.subscriber_id, gateway.key_id, world.other.signing)
    headers[GATEWAY_AUTHORIZATION] = forged.sign(body)
    return [(body, headers)]


def unregistered_address(world: AttackWorld, target: Target) -> list[tuple[bytes, Headers]]:
    """A registered sender, correctly signed, names another address than its registered one
    for answers (``bap_uri``; ``bpp_uri`` of a callback): the cloud metadata service here.
    Followed, every seller would post its catalogue there (SSRF with amplification)."""
    payload = json.loads(target.body(target.keys))
    field = "bpp_uri" if target.role == "BAP" else "bap_uri"
    payload["context"][field] = "http://169.254.169.254/latest/meta-data"
    body = json.dumps(payload, ensure_ascii=False).encode()
    return [(body, {"Authorization": signer_of(target.keys).sign(body)})]


def oversized(world: AttackWorld, target: Target) -> list[tuple[bytes, Headers]]:
    payload = json.loads(target.body(target.keys))
    payload["bourrage"] = "x" * (target.max_body + 1)
    body = json.dumps(payload).encode()
    return [(body, {"Authorization": signer_of(target.keys).sign(body)})]


MALFORMED = (
    "Signature",
    "Bearer abc",
    'Signature keyId="sans-barres",algorithm="ed25519",created="1",expires="2",'
    'headers="(created) (expires) digest",signature="AAAA"',
    'Signature keyId="a|b|ed25519",algorithm="ed25519",created="demain",expires="2",'
    'headers="(created) (expires) digest",signature="AAAA"',
    'Signature keyId="a|b|ed25519",algorithm="ed25519",created="1",expires="2",'
    'headers="(created) (expires) digest",signature="pas du base64 !"',
    'Signature keyId="' + "a" * 5000 + '|b|ed25519",signature="x"',
    'Signature keyId="a|b|ed25519",keyId="c|d|ed25519",signature="x"',
    'Signature keyId="a|b|ed25519,signature="x"',
)


def malformed_header(world: AttackWorld, target: Target) -> list[tuple[bytes, Headers]]:
    body = target.body(target.keys)
    return [(body, {"Authorization": value}) for value in MALFORMED]


def _with_message(target: Target, message_text: str) -> bytes:
    """A valid body whose ``message`` (or, for the operator API, ``reason``) is replaced by
    raw JSON text: the bomb is signed by a legitimate signer and stays under the size limit."""
    body = target.body(target.keys).decode()
    payload = json.loads(body)
    key = "message" if "message" in payload else "reason"
    marker = '"@@BOMBE@@"'
    payload[key] = "@@BOMBE@@"
    return json.dumps(payload, ensure_ascii=False).replace(marker, message_text, 1).encode()


def _signed_bomb(target: Target, message_text: str) -> list[tuple[bytes, Headers]]:
    body = _with_message(target, message_text)
    return [(body, {"Authorization": signer_of(target.keys).sign(body)})]


def deep_nesting(world: AttackWorld, target: Target) -> list[tuple[bytes, Headers]]:
    depth = min(100_000, target.max_body // 2 - 1000)
    return _signed_bomb(target, "[" * depth + "]" * depth)


def huge_string(world: AttackWorld, target: Target) -> list[tuple[bytes, Headers]]:
    size = 60_000 if target.role == "BREG" else int(target.max_body * 0.9)
    message = {"intent": {"item": {"descriptor": {"name": "x" * size}}}}
    return _signed_bomb(target, json.dumps(message))


def huge_array(world: AttackWorld, target: Target) -> list[tuple[bytes, Headers]]:
    if target.role == "BREG":
        return _signed_bomb(target, "[" + ",".join(["0"] * 10_000) + "]")
    tags = ",".join(["{}"] * 20_000)
    return _signed_bomb(
        target, '{"intent":{"item":{"descriptor":{"name":"x"}},"tags":[' + tags + "]}}"
    )


def duplicate_keys(world: AttackWorld, target: Target) -> list[tuple[bytes, Headers]]:
    """Two ``context`` (or ``subscriber_id``) members: parsers that keep the first and those
    that keep the last would not see the same message."""
    body = target.body(target.keys).decode()
    if target.beckn:
        payload = json.loads(body)
        shadow = dict(payload["context"], bap_id=world.other.subscriber_id)
        text = json.dumps(payload, ensure_ascii=False)
        duplicated = text[:-1] + ', "context": ' + json.dumps(shadow) + "}"
    else:
        duplicated = body[:-1] + ', "subscriber_id": "' + world.other.subscriber_id + '"}'
    raw = duplicated.encode()
    return [(raw, {"Authorization": signer_of(target.keys).sign(raw)})]


ATTACKS: tuple[Attack, ...] = (
    Attack("unsigned", "sans signature", unsigned),
    Attack("tampered_body", "corps modifié (1 octet)", tampered_body),
    Attack("tampered_created", "created modifié", tampered_created),
    Attack("tampered_expires", "expires modifié", tampered_expires),
    Attack("expired", "signature expirée", expired),
    Attack("future_dated", "signature datée du futur", future_dated),
    Attack("long_lived", "signature valable un an", long_lived, beckn_only=True),
    Attack("wrong_algorithm", "mauvais algorithme", wrong_algorithm),
    Attack("unknown_key_id", "keyId inconnu", unknown_key_id),
    Attack("another_subscribers_key", "clé d'un autre abonné", another_subscribers_key),
    Attack("signer_not_sender", "signataire ≠ expéditeur", signer_not_sender),
    Attack("revoked_key", "clé révoquée", revoked_key, beckn_only=True),
    Attack("suspended_subscriber", "abonné suspendu", suspended_subscriber, beckn_only=True),
    Attack("replayed", "message rejoué", replayed, code="stale"),
    Attack(
        "gateway_header_forged",
        "en-tête passerelle d'un non-BG",
        gateway_header_forged,
        beckn_only=True,
    ),
    Attack(
        "gateway_key_forged", "en-tête passerelle contrefait", gateway_key_forged, beckn_only=True
    ),
    Attack(
        "unregistered_address",
        "adresse de retour non inscrite",
        unregistered_address,
        beckn_only=True,
    ),
    Attack("oversized", "corps trop gros", oversized, status=413, code="request"),
    Attack("malformed_header", "Authorization mal formé", malformed_header),
    Attack("deep_nesting", "JSON : imbrication 100 000", deep_nesting, status=400, code="request"),
    Attack("huge_string", "JSON : chaîne énorme", huge_string, status=400, code="request"),
    Attack("huge_array", "JSON : tableau énorme", huge_array, status=400, code="request"),
    Attack("duplicate_keys", "JSON : clés en double", duplicate_keys, status=400, code="request"),
)
