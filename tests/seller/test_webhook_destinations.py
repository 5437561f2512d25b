"""The webhook destination policy on a real seller node (SQLite and PostgreSQL): forbidden URLs
get a 400 on ``url`` and nothing is stored; at delivery a name that resolves inside (DNS
rebinding, through the policy's resolver hook, or ``localhost`` through the system resolver
for a subscription stored before the policy) fails the delivery at once, its reason in the
deliveries listing, with no attempt reaching the receiver; an allowed name is delivered to
the checked address under its own name (``Host``); a redirect is refused, not followed."""

from __future__ import annotations

import ssl
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI, Request, Response
from sqlalchemy import insert, select

from reseau_poles.network.destinations import DestinationPolicy
from reseau_poles.participant.webhooks import new_secret
from reseau_poles.storage import utcnow
from tests.conftest import free_port

from .conftest import Network
from .support import CAPITALE, SYRUP
from .test_lifecycle import api, api_key, confirm
from .test_webhooks import Receiver, receiver, webhook_rows  # noqa: F401  (fixture)

PATH = f"/api/providers/{CAPITALE}/webhooks"
NAME = "recepteur.exemple.com"  # not in any DNS: only the policy's resolver knows it


def _resolver(answers: dict[str, list[str]]) -> Any:
    async def resolve(host: str, port: int) -> list[str]:
        return answers[host]

    return resolve


def _policy(network: Network, policy: DestinationPolicy) -> None:
    network.seller_app.state.service.webhooks.policy = policy


def _stored(network: Network) -> int:
    table = network.seller_app.state.service.webhooks.table
    with network.seller_app.state.service.engine.connect() as connection:
        return int(connection.execute(select(sa.func.count()).select_from(table)).scalar_one())


def _finished(network: Network, count: int = 1, timeout: float = 10) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        rows = webhook_rows(network)
        if len(rows) >= count and all(r["status"] in ("delivered", "failed") for r in rows):
            return rows
        assert time.monotonic() < deadline, rows
        time.sleep(0.05)


REFUSED = [
    ("http://127.0.0.1:5432/", "destination_interdite"),
    ("https://169.254.169.254/latest/meta-data/", "destination_interdite"),
    ("http://2130706433/", "destination_interdite"),
    ("https://0x7f.1/", "destination_interdite"),
    ("http://[::ffff:127.0.0.1]/", "destination_interdite"),
    ("https://[fe80::1%25eth0]/", "destination_interdite"),
    ("https://LOCALHOST./", "destination_interdite"),
    ("http://postgres:5432/", "destination_interdite"),
    ("https://10.0.0.8/", "destination_interdite"),
    ("https://good@127.0.0.1/", "url_invalide"),
    ("ftp://crochets.exemple.ca/", "url_invalide"),
    ("http://crochets.exemple.ca/", "https_requis"),
]


def test_forbidden_urls_get_a_400_on_url_and_nothing_is_stored(network: Network) -> None:
    service = network.seller_app.state.service
    # the node's settings reached the policy (the tests' node allows loopback in http) …
    assert service.webhooks.policy == DestinationPolicy(
        allow_http=True, allow_private_networks=True
    )
    _policy(network, DestinationPolicy())  # … a multi-tenant node's defaults from here on
    key = api_key(network)
    for url, code in REFUSED:
        answer = api(network, "POST", PATH, key, {"url": url, "event_types": ["*"]})
        assert answer.status_code == 400, answer.text
        error = answer.json()["error"]
        assert (error["code"], error["path"]) == (code, "url"), (url, error)
        assert error["message"] and error["message"][0].isupper()  # a sentence, in French
    assert api(network, "GET", PATH, key).json()["webhooks"] == []
    assert _stored(network) == 0
    # an on-premises node (private networks and http allowed) takes the private ones only
    _policy(network, DestinationPolicy(allow_http=True, allow_private_networks=True))
    accepted = [
        url
        for url, _code in REFUSED
        if api(network, "POST", PATH, key, {"url": url}).status_code == 201
    ]
    assert accepted == [
        "http://127.0.0.1:5432/",
        "http://[::ffff:127.0.0.1]/",
        "https://LOCALHOST./",
        "http://postgres:5432/",
        "https://10.0.0.8/",
        "http://crochets.exemple.ca/",
    ]
    assert _stored(network) == len(accepted)


def test_a_name_resolving_inside_fails_its_delivery_at_once(
    network: Network,
    receiver: Receiver,  # noqa: F811
) -> None:
    # The name was public when registered; at delivery it resolves to loopback (rebinding).
    _policy(network, DestinationPolicy(allow_http=True, resolver=_resolver({NAME: ["8.8.8.8"]})))
    key = api_key(network)
    url = receiver.url.replace("127.0.0.1", NAME)
    created = api(network, "POST", PATH, key, {"url": url})
    assert created.status_code == 201, created.text
    _policy(
        network,
        DestinationPolicy(
            allow_http=True, resolver=_resolver({NAME: ["93.184.215.14", "127.0.0.1"]})
        ),
    )
    confirm(network, (SYRUP, 6))
    (row,) = _finished(network)
    assert (row["status"], row["attempts"], row["last_http_status"]) == ("failed", 1, None)
    time.sleep(0.3)
    assert receiver.attempts == []  # nothing left the node
    (listed,) = api(network, "GET", f"{PATH}/{created.json()['id']}/deliveries", key).json()[
        "deliveries"
    ]
    assert (listed["status"], listed["attempts"]) == ("failed", 1)
    assert "destination_interdite" in listed["last_error"]
    assert "se résout en 127.0.0.1" in listed["last_error"]
    assert "bouclage" in listed["last_error"]


def test_a_subscription_from_before_the_policy_meets_the_system_resolver(
    network: Network,
    receiver: Receiver,  # noqa: F811
) -> None:
    # Stored without a check (as before the policy existed); the node is strict today.
    service = network.seller_app.state.service
    secret = new_secret()
    with service.engine.begin() as connection:
        webhook_id = connection.execute(
            insert(service.webhooks.table)
            .values(
                owner_id=CAPITALE,
                url=receiver.url.replace("127.0.0.1", "localhost."),
                secret=secret,
                event_types=",*,",
                active=True,
                created_at=utcnow(),
            )
            .returning(service.webhooks.table.c.id)
        ).scalar_one()
    _policy(network, DestinationPolicy(allow_http=True, allow_private_networks=False))
    confirm(network, (SYRUP, 6))
    (row,) = _finished(network)
    assert row["status"] == "failed" and row["attempts"] == 1
    assert receiver.attempts == []
    key = api_key(network)
    (listed,) = api(network, "GET", f"{PATH}/{webhook_id}/deliveries", key).json()["deliveries"]
    # checked again at delivery: the name itself is refused before any lookup
    assert "nom local" in listed["last_error"] and "localhost" in listed["last_error"]

    # the same name through the system resolver, for a policy that accepts local names but
    # not loopback addresses: getaddrinfo answers 127.0.0.1 or ::1, refused
    from reseau_poles.network.destinations import system_resolver

    class NamesButNotLoopback(DestinationPolicy):
        def check_url(self, url: str) -> Any:
            return DestinationPolicy(allow_http=True, allow_private_networks=True).check_url(url)

    _policy(network, NamesButNotLoopback(allow_http=True, resolver=system_resolver))
    confirm(network, (SYRUP, 6))
    rows = _finished(network, 2)
    assert rows[1]["status"] == "failed" and receiver.attempts == []
    assert "se résout en" in rows[1]["last_error"] and "bouclage" in rows[1]["last_error"]


def test_an_allowed_name_is_delivered_to_the_checked_address_and_redirects_are_refused(
    network: Network,
    receiver: Receiver,  # noqa: F811
) -> None:
    _policy(
        network,
        DestinationPolicy(
            allow_http=True, allow_private_networks=True, resolver=_resolver({NAME: ["127.0.0.1"]})
        ),
    )
    key = api_key(network)
    url = receiver.url.replace("127.0.0.1", NAME)
    created = api(network, "POST", PATH, key, {"url": url, "event_types": ["order.confirmed"]})
    assert created.status_code == 201, created.text
    receiver.secret = created.json()["secret"]
    receiver.failures, receiver.status = 1, 307  # the first answer is a redirect

    confirm(network, (SYRUP, 6))
    (first,) = receiver.wait(1)
    (row,) = _finished(network)
    assert (row["status"], row["last_http_status"]) == ("failed", 307)
    assert "redirection refusée" in row["last_error"]

    confirm(network, (SYRUP, 6))
    second = receiver.wait(2)[1]
    rows = _finished(network, 2)
    assert rows[1]["status"] == "delivered" and len(receiver.attempts) == 2
    port = receiver.url.split(":")[2].split("/")[0]
    assert second["headers"]["host"] == f"{NAME}:{port}"  # the name, sent to the address
    assert second["verified"] and first["verified"]


# --- https: the checked address, the name's certificate -------------------------------------


def _certificates(folder: Path, name: str) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for ``name`` (cert, key, CA files)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now(UTC)

    def build(subject: str, issuer: x509.Name, key: Any, signer: Any, ca: bool) -> Any:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False
            )
        return builder.sign(signer, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "AC d'essai")])
    ca = build("AC d'essai", ca_name, ca_key, ca_key, True)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = build(name, ca_name, key, ca_key, False)
    pem = serialization.Encoding.PEM
    files = folder / "cert.pem", folder / "key.pem", folder / "ca.pem"
    files[0].write_bytes(cert.public_bytes(pem))
    files[1].write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    files[2].write_bytes(ca.public_bytes(pem))
    return files


def test_https_goes_to_the_checked_address_and_checks_the_names_certificate(
    network: Network, tmp_path: Path
) -> None:
    got: list[dict[str, str]] = []
    sink = FastAPI()

    @sink.post("/crochet")
    async def hook(request: Request) -> Response:
        got.append(dict(request.headers))
        return Response(status_code=204)

    cert, key, ca = _certificates(tmp_path, NAME)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            sink,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            ssl_certfile=str(cert),
            ssl_keyfile=str(key),
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive()
            time.sleep(0.01)
        webhooks = network.seller_app.state.service.webhooks
        webhooks.ssl_context = ssl.create_default_context(cafile=str(ca))
        answers = {NAME: ["127.0.0.1"], "autre.exemple.com": ["127.0.0.1"]}
        # private networks allowed (the server is on loopback), http not: https only
        _policy(
            network, DestinationPolicy(allow_private_networks=True, resolver=_resolver(answers))
        )
        key_ = api_key(network)
        for host in (NAME, "autre.exemple.com"):
            created = api(network, "POST", PATH, key_, {"url": f"https://{host}:{port}/crochet"})
            assert created.status_code == 201, created.text

        confirm(network, (SYRUP, 6))
        deadline = time.monotonic() + 10
        while True:
            by_host = {
                r["target_url"].split("/")[2].split(":")[0]: r for r in webhook_rows(network)
            }
            mine, other = by_host.get(NAME), by_host.get("autre.exemple.com")
            if mine and other and mine["status"] == "delivered" and other["last_error"]:
                break
            assert time.monotonic() < deadline, by_host
            time.sleep(0.05)
        # the certificate names NAME: delivered over TLS to 127.0.0.1, Host and SNI the name
        assert len(got) == 1
        assert got[0]["host"] == f"{NAME}:{port}"
        # the same address under another name: the certificate does not match, nothing sent
        assert other["status"] in ("pending", "delivering") and other["last_http_status"] is None
        assert "échec réseau" in other["last_error"]
    finally:
        server.should_exit = True
        thread.join(timeout=10)
