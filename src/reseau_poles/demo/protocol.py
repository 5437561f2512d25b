"""``reseau-poles demo protocol``: the protocol core at work, without any server.

A buyer node builds a real Beckn 1.1 search for maple syrup in Capitale-Nationale, serialises
it once, signs those bytes (BECKN-006), and a seller verifies them; then the same message with
one byte changed, and with an expired signature, is refused with the precise reason.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from rich.console import Console

from ..protocol import signing
from ..protocol.errors import SignatureError
from ..protocol.keys import SubscriberKeys


def build_search(bap_id: str, bap_uri: str) -> bytes:
    """A search for « sirop d'érable » biologique in QC-03, as a buyer node sends it."""
    from ..protocol.models import SearchRequest, to_bytes

    request = SearchRequest.model_validate(
        {
            "context": {
                "domain": "PLA:ALIMENTS",
                "location": {"city": {"code": "QC-03"}, "country": {"code": "CAN"}},
                "action": "search",
                "version": "1.1.0",
                "bap_id": bap_id,
                "bap_uri": bap_uri,
                "transaction_id": str(uuid.uuid4()),
                "message_id": str(uuid.uuid4()),
                "timestamp": datetime.now(UTC),
                "ttl": "PT30S",
            },
            "message": {
                "intent": {
                    "item": {"descriptor": {"name": "sirop d'érable"}},
                    "tags": [
                        {
                            "descriptor": {"code": "certifications"},
                            "list": [{"descriptor": {"code": "biologique_canada"}, "value": "oui"}],
                        }
                    ],
                }
            },
        }
    )
    return to_bytes(request)


def protocol_demo(console: Console, *, now: float) -> int:
    """Print the walk-through; return 0 when every check behaved as the protocol says."""
    buyer = SubscriberKeys.generate("acheteur-demo.reseau-poles.example")
    signer = signing.Signer(buyer.subscriber_id, buyer.key_id, buyer.signing)
    body = build_search(buyer.subscriber_id, "http://127.0.0.1:8003/beckn")
    created = int(now)
    header = signer.sign(body, created=created, expires=created + 30)

    console.rule("[bold]Réseau Pôles — le cœur du protocole")
    console.print("1. Le nœud acheteur sérialise sa recherche une seule fois :", style="bold")
    console.print(body.decode(), highlight=False, soft_wrap=True)
    console.print(f"\n   digest  BLAKE-512={signing.digest(body)}", highlight=False, soft_wrap=True)
    console.print("\n2. Il signe ces octets exacts (BECKN-006) :", style="bold")
    console.print(f"   Authorization: {header}", highlight=False, soft_wrap=True)

    ok = True
    console.print("\n3. Le nœud vendeur vérifie avec la clé publique du registre :", style="bold")
    try:
        signing.verify(body, header, buyer.signing.public_key, now=now)
        console.print("   [green]valide[/]")
    except SignatureError as exc:  # pragma: no cover - would be a bug
        console.print(f"   [red]refusée : {exc.reason}[/]")
        ok = False

    tampered = body.replace(b"QC-03", b"QC-06", 1)
    console.print("\n4. Un octet modifié en route (QC-03 → QC-06) :", style="bold")
    ok &= _expect_refusal(console, tampered, header, buyer, now, "signature_mismatch")

    console.print("\n5. La même requête rejouée une heure plus tard :", style="bold")
    ok &= _expect_refusal(console, body, header, buyer, now + 3600, "expired")

    console.print(
        "\nPour vérifier vous-même une signature : "
        "[bold]reseau-poles verify --public-key CLÉ --header 'Signature …' < corps.json[/]"
    )
    return 0 if ok else 1


def _expect_refusal(
    console: Console, body: bytes, header: str, keys: SubscriberKeys, now: float, reason: str
) -> bool:
    try:
        signing.verify(body, header, keys.signing.public_key, now=now)
    except SignatureError as exc:
        console.print(f"   [green]refusée[/] ({exc.reason}) : {exc.message}", highlight=False)
        return exc.reason == reason
    console.print("   [red]acceptée à tort[/]")  # pragma: no cover - would be a bug
    return False
