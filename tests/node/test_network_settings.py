"""The network layer's settings from the node's own TOML file (flat keys, as the gateway's):
the file feeds NetworkSettings, the environment still wins, code overrides win over both; a
node served from such a file really uses them (transcript file, Redis replay guard)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from reseau_poles.network import MemoryReplayGuard, NetworkSettings, RedisReplayGuard
from reseau_poles.network.tables import transcript_table
from reseau_poles.seller.cli import app as seller_cli
from reseau_poles.seller.settings import load_settings
from reseau_poles.storage import make_engine
from tests.conftest import REDIS_URL, REQUIRE_SERVICES
from tests.network.support import StandInRegistry, context, participant, serve

from .conftest import NodeFiles, UvicornThread, toml_text

runner = CliRunner()


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("REDIS_URL", "TRANSCRIPT_PATH", "OUTBOX_POLL_INTERVAL", "LOOKUP_CACHE_TTL"):
        monkeypatch.delenv(f"RESEAU_POLES_{name}", raising=False)
    monkeypatch.delenv("RESEAU_POLES_CONFIG_FILE", raising=False)


def write(path: Path, **values: object) -> Path:
    path.write_text(toml_text(values), "utf-8")
    return path


def test_file_then_environment_then_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write(
        tmp_path / "vendeur.toml",
        subscriber_id="vendeur.example",
        registry_url="http://127.0.0.1:9000",
        transcript_path=str(tmp_path / "messages.jsonl"),
        transcript_database=False,
        redis_url="redis://127.0.0.1:6379/4",
        outbox_poll_interval=0.25,
        lookup_cache_ttl=30,
        http_timeout=4.5,
    )
    network = load_settings(config).network_settings()
    assert isinstance(network, NetworkSettings)
    assert network.registry_url == "http://127.0.0.1:9000"
    assert network.transcript_path == str(tmp_path / "messages.jsonl")
    assert network.transcript_database is False
    assert network.redis_url == "redis://127.0.0.1:6379/4"
    assert network.outbox_poll_interval == 0.25
    assert network.lookup_cache_ttl == 30
    assert network.http_timeout == 4.5
    assert network.outbox_batch_size == NetworkSettings().outbox_batch_size  # untouched default

    # The environment wins over the file; values given in code win over both.
    monkeypatch.setenv("RESEAU_POLES_OUTBOX_POLL_INTERVAL", "0.75")
    monkeypatch.setenv("RESEAU_POLES_REDIS_URL", "redis://127.0.0.1:6379/5")
    network = load_settings(config).network_settings(lookup_cache_ttl=10)
    assert network.outbox_poll_interval == 0.75
    assert network.redis_url == "redis://127.0.0.1:6379/5"
    assert network.lookup_cache_ttl == 10
    assert network.http_timeout == 4.5

    # The file named by RESEAU_POLES_CONFIG_FILE serves the same way.
    monkeypatch.setenv("RESEAU_POLES_CONFIG_FILE", str(config))
    assert load_settings().network_settings().transcript_database is False


def test_without_a_file_environment_and_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESEAU_POLES_LOOKUP_CACHE_TTL", "12")
    network = load_settings(registry_url="http://127.0.0.1:9001").network_settings()
    assert network.lookup_cache_ttl == 12
    assert network.registry_url == "http://127.0.0.1:9001"
    assert network.transcript_path is None and network.redis_url is None


def test_a_bad_value_is_named_before_serving(tmp_path: Path) -> None:
    config = write(
        tmp_path / "vendeur.toml",
        database_url=f"sqlite:///{tmp_path / 'v.sqlite'}",
        outbox_poll_interval="souvent",
    )
    result = runner.invoke(seller_cli, ["serve", "--config", str(config)])
    assert result.exit_code == 1, result.output
    text = " ".join(result.output.split())
    assert "configuration invalide" in text and "outbox_poll_interval" in text
    assert "Traceback" not in result.output
    assert not (tmp_path / "v.sqlite").exists()  # nothing started


NOWHERE = "http://127.0.0.1:9/beckn"  # the buyer's registered address: loopback, nobody there


def _signed_search(buyer, seller_id: str) -> tuple[bytes, str]:  # type: ignore[no-untyped-def]
    message_id = str(uuid.uuid4())
    ctx = context("search", bap=buyer.subscriber_id, message_id=message_id)
    ctx["bap_uri"] = NOWHERE  # its registered address, where nobody listens: the callback waits
    body = json.dumps(
        {"context": ctx, "message": {"intent": {"item": {"descriptor": {"name": "miel"}}}}},
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    return body, message_id


def test_a_node_served_from_its_file_uses_them(
    database_url: str,
    tmp_path: Path,
    node_files: Callable[..., NodeFiles],
    servers: list[UvicornThread],
) -> None:
    if not REDIS_URL:
        if REQUIRE_SERVICES:
            pytest.fail("RESEAU_POLES_TEST_REDIS_URL manquant")
        pytest.skip("Redis indisponible (RESEAU_POLES_TEST_REDIS_URL)")
    registry = StandInRegistry()
    buyer = participant("acheteur.example", "BAP")
    registry.add(buyer, url=NOWHERE)
    transcript = tmp_path / "vendeur.jsonl"
    prefix_probe = f"reseau-poles:replay:{buyer.subscriber_id}|search|"
    with serve(registry.app) as registry_url:
        node = node_files("seller", None)
        node.write(
            database_url=database_url,
            registry_url=registry_url,
            registry_public_key=registry.public_key,
            registry_subscriber_id=registry.subscriber_id,
            transcript_path=str(transcript),
            transcript_database=False,
            redis_url=REDIS_URL,
            outbox_poll_interval=0.2,
        )
        from reseau_poles.seller.app import create_app

        app = create_app(load_settings(node.config))
        network = app.state.network
        assert isinstance(network.replay_guard, RedisReplayGuard)
        assert not isinstance(network.replay_guard, MemoryReplayGuard)
        assert network.settings.transcript_path == str(transcript)
        servers.append(UvicornThread(app, node.port).start())

        body, message_id = _signed_search(buyer, node.subscriber_id)
        headers = {"Content-Type": "application/json", "Authorization": buyer.signer().sign(body)}
        with httpx.Client(timeout=10) as http:
            first = http.post(f"{node.url}/search", content=body, headers=headers)
            second = http.post(f"{node.url}/search", content=body, headers=headers)
        assert first.status_code == 200, first.text
        # The replay guard is the Redis one named in the file: the key is there, the copy is
        # refused.
        assert second.status_code == 401, second.text
        assert second.json()["error"]["paths"] == "context.message_id"
        import redis

        store = redis.Redis.from_url(REDIS_URL)
        try:
            assert store.exists(prefix_probe + message_id) == 1
        finally:
            store.close()

    # The transcript file named in the file has both messages; the database table none.
    deadline = time.monotonic() + 5
    while True:
        lines = transcript.read_text("utf-8").splitlines() if transcript.exists() else []
        if sum(message_id in line for line in lines) >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert sum(message_id in line for line in lines) >= 2, lines
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(func.count()).select_from(transcript_table))
            assert rows.scalar_one() == 0
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "role,example",
    [("seller", "seller_node/seller.example.toml"), ("buyer", "buyer_node/buyer.example.toml")],
)
def test_kit_examples_load_and_name_only_real_settings(role: str, example: str) -> None:
    import tomllib

    from reseau_poles.buyer.settings import BuyerSettings
    from reseau_poles.buyer.settings import load_settings as load_buyer

    root = Path(__file__).resolve().parents[2]
    path = root / example
    role_settings, load = (
        (BuyerSettings, load_buyer) if role == "buyer" else (type(load_settings()), load_settings)
    )
    keys = set(tomllib.loads(path.read_text("utf-8")))
    known = set(role_settings.model_fields) | set(NetworkSettings.model_fields)
    assert keys - known == set()  # a typo in the kit would be silently ignored otherwise
    settings = load(path)
    network = settings.network_settings()
    assert settings.regions and network.registry_url == settings.registry_url
    for key in keys & set(NetworkSettings.model_fields):
        assert getattr(network, key) == tomllib.loads(path.read_text("utf-8"))[key], key
