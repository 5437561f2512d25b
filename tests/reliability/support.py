"""A whole network on loopback for the attack tests: the real registry, the real gateway, a
real seller node and a real buyer node (uvicorn in threads, SQLite files), and participants
with real keys, some of them revoked or suspended by the operator through the admin API.

Each role that receives signed messages is a :class:`Target`: where to post, who may sign,
how to build a valid body, and how to count what reached its business logic (rows written,
messages fanned out, audit lines) so a test can prove that a refused attack left no trace.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from reseau_poles.buyer.app import create_app as create_buyer
from reseau_poles.buyer.repositories import organisations as buyer_repo
from reseau_poles.buyer.repositories import searches as buyer_search_repo
from reseau_poles.buyer.settings import BuyerSettings
from reseau_poles.gateway import GatewaySettings
from reseau_poles.gateway import create_app as create_gateway
from reseau_poles.gateway.cli import register
from reseau_poles.keystore import KeyFiles
from reseau_poles.protocol.keys import SubscriberKeys
from reseau_poles.protocol.models import format_datetime
from reseau_poles.protocol.signing import Signer
from reseau_poles.registry.settings import OperatorKey, RegistrySettings
from reseau_poles.seller.app import create_app as create_seller
from reseau_poles.seller.repositories import api_keys as key_repo
from reseau_poles.seller.settings import SellerSettings
from reseau_poles.storage import make_session_factory, utcnow, write_session
from tests.conftest import free_port
from tests.gateway.support import SellerHost
from tests.registry.conftest import (
    Participant,
    ParticipantHost,
    RunningRegistry,
    UvicornThread,
    new_keys,
)
from tests.seller.support import CAPITALE, SYRUP, load_catalog

NO_RATE_LIMIT = {"api_rate_per_second": 0.0, "api_search_rate_per_second": 0.0}
REGISTRY_ID = "registre.fiabilite.example"
GATEWAY_ID = "passerelle.fiabilite.example"
DOMAIN = "PLA:ALIMENTS"
ORGANISATION = "css-capitale"


def signer_of(keys: SubscriberKeys) -> Signer:
    return Signer(keys.subscriber_id, keys.key_id, keys.signing)


def count_rows(engine: sa.Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def context(
    action: str,
    *,
    bap: str,
    bap_uri: str,
    bpp: str | None = None,
    bpp_uri: str | None = None,
    transaction_id: str | None = None,
    message_id: str | None = None,
) -> dict[str, Any]:
    ctx: dict[str, Any] = {
        "domain": DOMAIN,
        "location": {"city": {"code": "QC-03"}, "country": {"code": "CAN"}},
        "action": action,
        "version": "1.1.0",
        "bap_id": bap,
        "bap_uri": bap_uri,
        "transaction_id": transaction_id or str(uuid.uuid4()),
        "message_id": message_id or str(uuid.uuid4()),
        "timestamp": format_datetime(utcnow()),
        "ttl": "PT30S",
    }
    if bpp:
        ctx["bpp_id"] = bpp
        ctx["bpp_uri"] = bpp_uri
    return ctx


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


SEARCH_MESSAGE = {"intent": {"item": {"descriptor": {"name": "sirop d'érable"}}}}
SELECT_MESSAGE = {
    "order": {
        "provider": {"id": CAPITALE},
        "items": [{"id": SYRUP, "quantity": {"selected": {"count": 6}}}],
    }
}


@dataclass
class Target:
    """One role receiving signed messages, as the attacks see it."""

    name: str  # e.g. "passerelle /search"
    url: str
    role: str  # BG, BPP, BAP, BREG
    # The signer the target expects for a valid message (a Beckn subscriber, or the operator).
    keys: SubscriberKeys
    # A valid body whose signer field (bap_id / bpp_id) names ``who``; fresh ids each call.
    body: Callable[[SubscriberKeys], bytes]
    # How many traces the business logic has left so far (rows, deliveries, audit lines).
    effects: Callable[[], int]
    invalid_signature: str
    stale: str
    invalid_request: str
    max_body: int = 1_048_576
    # Settle time before counting effects (the gateway fans out after its ACK).
    settle: float = 0.0
    beckn: bool = True  # a Beckn message (message_id, replay guard, gateway header)

    def post(self, body: bytes, headers: dict[str, str]) -> httpx.Response:
        sent = {"Content-Type": "application/json", **headers}
        return httpx.post(self.url, content=body, headers=sent, timeout=20)


@dataclass
class AttackWorld:
    registry: RunningRegistry
    gateway_keys: SubscriberKeys
    fanout: SellerHost
    seller_app: FastAPI
    seller_url: str
    seller_keys: SubscriberKeys
    buyer_app: FastAPI
    buyer_url: str
    buyer_keys: SubscriberKeys
    bap: SubscriberKeys  # a buyer app that signs requests
    bpp: SubscriberKeys  # a seller that signs callbacks to the buyer node
    other: SubscriberKeys  # a third, honest subscriber (its key used by an impostor)
    revoked: SubscriberKeys  # BAP whose only key the operator revoked
    suspended: SubscriberKeys  # BAP the operator suspended
    revoked_bpp: SubscriberKeys
    suspended_bpp: SubscriberKeys
    impostor_gateway: SubscriberKeys  # a BAP signing X-Gateway-Authorization
    operator: SubscriberKeys
    seller_api_key: str = ""
    buyer_api_key: str = ""
    gateway_url: str = ""
    targets: dict[str, Target] = field(default_factory=dict)
    # Where each participant that joined is registered (its messages name that address).
    urls: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url_of(self, subscriber_id: str) -> str:
        """The registered address of a participant; one nobody listens on for the others."""
        return self.urls.get(subscriber_id, f"http://127.0.0.1:9/{subscriber_id}")

    def known_transaction(self) -> str:
        """A search the buyer node knows (its ``on_search`` callbacks are then acceptable)."""
        transaction_id = str(uuid.uuid4())
        factory = make_session_factory(self.buyer_app.state.service.engine)
        with write_session(factory) as session:
            buyer_search_repo.insert_search(
                session,
                transaction_id=transaction_id,
                message_id=str(uuid.uuid4()),
                organisation_id=ORGANISATION,
                params={"query": "sirop"},
            )
        return transaction_id


def _join(registry: RunningRegistry, keys: SubscriberKeys, url: str, **record: Any) -> None:
    response = registry.subscribe(Participant(keys, url), **record)
    assert response.status_code == 200, response.text


@contextmanager
def attack_world(tmp: Path) -> Iterator[AttackWorld]:
    host = ParticipantHost()
    host.server.start()
    operator = new_keys("operateur")
    registry = RunningRegistry(
        RegistrySettings(
            database_url=f"sqlite:///{tmp / 'registry.sqlite'}",
            key_dir=tmp / "registry-keys",
            subscriber_id=REGISTRY_ID,
            operators=[
                OperatorKey(
                    operator_id=operator.subscriber_id,
                    key_id=operator.key_id,
                    signing_public_key=operator.signing.public_key_b64,
                )
            ],
            challenge_timeout_seconds=2.0,
            snapshot_refresh_seconds=0.1,
            port=free_port(),
        ),
        host,
        operator,
    ).start()
    stops: list[Callable[[], None]] = [host.server.stop, registry.stop]
    urls: dict[str, str] = {}
    try:
        # Participants that sign: joined through the registry's challenge, like real ones.
        def joined(prefix: str, kind: str) -> SubscriberKeys:
            keys = new_keys(prefix)
            urls[keys.subscriber_id] = registry.join(keys, type=kind, regions=["QC-03"]).url
            return keys

        bap = joined("appli-acheteuse", "BAP")
        bpp = joined("vendeur-signataire", "BPP")
        other = joined("autre", "BAP")
        revoked = joined("revoquee", "BAP")
        suspended = joined("suspendue", "BAP")
        revoked_bpp = joined("vendeur-revoque", "BPP")
        suspended_bpp = joined("vendeur-suspendu", "BPP")
        impostor_gateway = joined("fausse-passerelle", "BAP")
        for keys in (revoked, revoked_bpp):
            registry.admin.revoke_key(keys.subscriber_id, keys.key_id, "clé compromise (test)")
        for keys in (suspended, suspended_bpp):
            registry.admin.change("suspend", keys.subscriber_id, "suspension (test)")

        # Fan-out targets of the gateway: stand-in sellers that record what reaches them.
        fanout = SellerHost().start()
        stops.append(fanout.stop)
        for name in ("cible-a", "cible-b"):
            seller = fanout.add(name)
            _join(registry, seller.keys, seller.url, type="BPP", regions=["QC-03"])

        # The gateway.
        port = free_port()
        gateway_settings = GatewaySettings(
            subscriber_id=GATEWAY_ID,
            key_dir=tmp / "gateway-keys",
            public_url=f"http://127.0.0.1:{port}",
            registry_url=registry.url,
            registry_subscriber_id=REGISTRY_ID,
            lookup_cache_ttl=1.0,
            lookup_negative_ttl=0.2,
            seller_timeout=2.0,
            rate_limit_per_second=1000,
            rate_limit_burst=1000,
            log_level="WARNING",
        )
        gateway_keys = SubscriberKeys.generate(GATEWAY_ID, "passerelle-1")
        gateway_app = create_gateway(gateway_settings, identity=gateway_keys)
        gateway_server = UvicornThread(gateway_app, port).start()
        stops.append(gateway_server.stop)
        assert register(gateway_settings, gateway_keys) == "SUBSCRIBED"

        # The seller node (its own catalogue, one SQLite file).
        seller_keys = new_keys("noeud-vendeur")
        KeyFiles(tmp / "seller-keys").write(seller_keys)
        port = free_port()
        seller_url = f"http://127.0.0.1:{port}"
        seller_settings = SellerSettings(
            database_url=f"sqlite:///{tmp / 'seller.sqlite'}",
            subscriber_id=seller_keys.subscriber_id,
            key_dir=tmp / "seller-keys",
            public_url=seller_url,
            registry_url=registry.url,
            registry_subscriber_id=REGISTRY_ID,
            # The generated requests are to reach the handlers, not the rate limit.
            **NO_RATE_LIMIT,
        )
        seller_app = create_seller(
            seller_settings,
            network_settings=seller_settings.network_settings(
                outbox_poll_interval=60.0, lookup_cache_ttl=1.0, lookup_negative_ttl=0.2
            ),
        )
        load_catalog(seller_app.state.service.engine)
        with write_session(make_session_factory(seller_app.state.service.engine)) as session:
            seller_api_key = key_repo.create_api_key(session, CAPITALE, "fiabilité")
        seller_server = UvicornThread(seller_app, port).start()
        stops.append(lambda: (seller_server.stop(), seller_app.state.service.engine.dispose()))
        # A domain no search of ours names: the gateway's fan-out never reaches the real node.
        _join(
            registry,
            seller_keys,
            seller_url,
            type="BPP",
            domains=["PLA:LOGISTIQUE"],
            regions=["QC-03"],
        )

        # The buyer node.
        buyer_keys = new_keys("noeud-acheteur")
        KeyFiles(tmp / "buyer-keys").write(buyer_keys)
        port = free_port()
        buyer_url = f"http://127.0.0.1:{port}"
        buyer_settings = BuyerSettings(
            database_url=f"sqlite:///{tmp / 'buyer.sqlite'}",
            subscriber_id=buyer_keys.subscriber_id,
            key_dir=tmp / "buyer-keys",
            public_url=buyer_url,
            registry_url=registry.url,
            registry_subscriber_id=REGISTRY_ID,
            # The generated requests are to reach the handlers, not the rate limit.
            **NO_RATE_LIMIT,
        )
        buyer_app = create_buyer(
            buyer_settings,
            network_settings=buyer_settings.network_settings(
                lookup_cache_ttl=1.0, lookup_negative_ttl=0.2
            ),
        )
        with write_session(make_session_factory(buyer_app.state.service.engine)) as session:
            buyer_repo.add_organisation(session, ORGANISATION, "Centre de services scolaire")
            buyer_api_key = buyer_repo.create_api_key(session, ORGANISATION, "fiabilité")
        buyer_server = UvicornThread(buyer_app, port).start()
        stops.append(lambda: (buyer_server.stop(), buyer_app.state.service.engine.dispose()))
        _join(registry, buyer_keys, buyer_url, type="BAP", regions=["*"])

        world = AttackWorld(
            registry=registry,
            gateway_keys=gateway_keys,
            fanout=fanout,
            seller_app=seller_app,
            seller_url=seller_url,
            seller_keys=seller_keys,
            buyer_app=buyer_app,
            buyer_url=buyer_url,
            buyer_keys=buyer_keys,
            bap=bap,
            bpp=bpp,
            other=other,
            revoked=revoked,
            suspended=suspended,
            revoked_bpp=revoked_bpp,
            suspended_bpp=suspended_bpp,
            impostor_gateway=impostor_gateway,
            operator=operator,
            seller_api_key=seller_api_key,
            buyer_api_key=buyer_api_key,
            gateway_url=gateway_server.url,
            urls=urls,
        )
        world.targets = _targets(world, registry.url, f"{gateway_server.url}/search")
        yield world
    finally:
        for stop in reversed(stops):
            stop()


def _targets(world: AttackWorld, registry_url: str, gateway_search: str) -> dict[str, Target]:
    seller_engine = world.seller_app.state.service.engine
    buyer_engine = world.buyer_app.state.service.engine
    registry_engine = world.registry.service.engine

    def request(action: str, message: dict[str, Any], *, to_seller: bool) -> Callable[..., bytes]:
        def build(who: SubscriberKeys) -> bytes:
            ctx = context(
                action,
                bap=who.subscriber_id,
                bap_uri=world.url_of(who.subscriber_id),
                bpp=world.seller_keys.subscriber_id if to_seller else None,
                bpp_uri=world.seller_url if to_seller else None,
            )
            return encode({"context": ctx, "message": message})

        return build

    def on_search(who: SubscriberKeys) -> bytes:
        ctx = context(
            "on_search",
            bap=world.buyer_keys.subscriber_id,
            bap_uri=world.buyer_url,
            bpp=who.subscriber_id,
            bpp_uri=world.url_of(who.subscriber_id),
            transaction_id=world.known_transaction(),
        )
        catalog = {
            "descriptor": {"name": "Pôle signataire"},
            "providers": [
                {
                    "id": "pole-signataire",
                    "descriptor": {"name": "Pôle signataire"},
                    "items": [
                        {
                            "id": "sirop",
                            "descriptor": {"name": "Sirop d'érable 540 ml"},
                            "price": {"currency": "CAD", "value": "12.50"},
                        }
                    ],
                }
            ],
        }
        return encode({"context": ctx, "message": {"catalog": catalog}})

    target_subscriber = new_keys("cible-admin").subscriber_id

    def admin_body(_who: SubscriberKeys) -> bytes:
        # The suspension of a participant the registry does not know: authentication comes
        # first, so an accepted one is answered 404 without writing anything either.
        return encode({"action": "suspend", "subscriber_id": target_subscriber, "reason": "x"})

    def fanned_out() -> int:
        return len(world.fanout.deliveries)

    def seller_effects() -> int:
        return count_rows(seller_engine, "network_outbox") + count_rows(
            seller_engine, "seller_orders"
        )

    def buyer_effects() -> int:
        return count_rows(buyer_engine, "buyer_callbacks") + count_rows(
            buyer_engine, "buyer_search_results"
        )

    def audit_lines() -> int:
        return count_rows(registry_engine, "registry_audit")

    return {
        "gateway_search": Target(
            "passerelle POST /search",
            gateway_search,
            "BG",
            world.bap,
            request("search", SEARCH_MESSAGE, to_seller=False),
            fanned_out,
            "10001",
            "10000",
            "10000",
            max_body=262_144,
            settle=0.15,
        ),
        "seller_search": Target(
            "vendeur POST /search",
            f"{world.seller_url}/search",
            "BPP",
            world.bap,
            request("search", SEARCH_MESSAGE, to_seller=True),
            seller_effects,
            "30016",
            "30022",
            "30000",
        ),
        "seller_select": Target(
            "vendeur POST /select",
            f"{world.seller_url}/select",
            "BPP",
            world.bap,
            request("select", SELECT_MESSAGE, to_seller=True),
            seller_effects,
            "30016",
            "30022",
            "30000",
        ),
        "buyer_on_search": Target(
            "acheteur POST /on_search",
            f"{world.buyer_url}/on_search",
            "BAP",
            world.bpp,
            on_search,
            buyer_effects,
            "20001",
            "20002",
            "20007",
        ),
        "registry_admin": Target(
            "registre POST /admin/…/suspend",
            f"{registry_url}/admin/subscribers/{target_subscriber}/suspend",
            "BREG",
            world.operator,
            admin_body,
            audit_lines,
            "15001",
            "15001",
            "15000",
            max_body=65_536,
            beckn=False,
        ),
    }


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()
