"""Webhook secrets at rest on a real seller node: its database file is 0600, the secret column
holds no clear secret (read in the raw row and in the SQLite file's bytes) while deliveries
are still signed with the right secret; a clear secret stored by an earlier version is sealed
when a node starts on the database; a secret the node's key cannot open (lost key file) is
listed ``needs_new_secret`` and its deliveries fail with ``secret_illisible``, never a 500."""

from __future__ import annotations

import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from reseau_poles.participant.webhook_secrets import KEY_FILE, SEALED, SecretCipher
from reseau_poles.seller.app import create_app
from reseau_poles.seller.tables import webhooks
from reseau_poles.storage import is_sqlite, utcnow

from .conftest import Network
from .support import CAPITALE, SYRUP
from .test_lifecycle import api, api_key, confirm
from .test_webhooks import Receiver, subscribe


@pytest.fixture
def hook() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.server.start()
    try:
        yield receiver
    finally:
        receiver.server.stop()


def _stored(network: Network) -> dict[int, str]:
    engine = network.seller_app.state.service.engine
    with engine.connect() as connection:
        rows = connection.execute(sa.select(webhooks.c.id, webhooks.c.secret)).all()
    return {int(row_id): secret for row_id, secret in rows}


def _database_file(network: Network) -> Path | None:
    engine = network.seller_app.state.service.engine
    return Path(engine.url.database or "") if is_sqlite(engine) else None


def _key_dir(network: Network) -> Path:
    return Path(network.seller_app.state.service.settings.key_dir)


def test_secret_sealed_at_rest_and_deliveries_signed(network: Network, hook: Receiver) -> None:
    database = _database_file(network)
    if database is not None:  # the node's own SQLite file: readable by its user only
        assert stat.S_IMODE(database.stat().st_mode) == 0o600
    key_file = _key_dir(network) / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    created = subscribe(network, api_key(network), hook, event_types=["order.confirmed"])
    secret = created["secret"]
    stored = _stored(network)[created["id"]]
    assert secret not in stored and secret[len("whsec_") + 4 :] not in stored
    assert stored.startswith(SEALED)
    if database is not None:  # nor anywhere in the file's bytes (database and WAL)
        raw = b"".join(
            path.read_bytes() for path in (database, Path(f"{database}-wal")) if path.exists()
        )
        assert secret.encode() not in raw
    listed = api(network, "GET", f"/api/providers/{CAPITALE}/webhooks", api_key(network))
    (only,) = listed.json()["webhooks"]
    assert secret.startswith(only["secret_prefix"]) and only["needs_new_secret"] is False

    confirm(network, (SYRUP, 6))
    (attempt,) = hook.wait(1)
    assert attempt["verified"]  # signed with the secret the owner was shown


def test_a_clear_secret_of_an_earlier_version_is_sealed_at_start(
    network: Network, hook: Receiver
) -> None:
    service = network.seller_app.state.service
    old_secret = "whsec_ancien-secret-stocke-en-clair-par-une-version-precedente"
    with service.engine.begin() as connection:
        connection.execute(
            sa.insert(webhooks).values(
                owner_id=CAPITALE,
                url=hook.url,
                secret=old_secret,
                event_types=",*,",
                active=True,
                created_at=utcnow(),
            )
        )
    # A node starts on this database (same settings, same key folder): it seals the value.
    restarted = create_app(service.settings)
    restarted.state.service.engine.dispose()
    (stored,) = _stored(network).values()
    assert stored.startswith(SEALED) and old_secret not in stored
    # a second start changes nothing (idempotent)
    again = create_app(service.settings)
    again.state.service.engine.dispose()
    assert list(_stored(network).values()) == [stored]

    hook.secret = old_secret
    confirm(network, (SYRUP, 6))
    (attempt,) = hook.wait(1)
    assert attempt["verified"]  # the owner's receiver keeps its secret


def _deliveries(network: Network, key: str, webhook_id: int) -> list[dict[str, Any]]:
    path = f"/api/providers/{CAPITALE}/webhooks/{webhook_id}/deliveries"
    deadline = time.monotonic() + 15
    while True:
        answer = api(network, "GET", path, key)
        assert answer.status_code == 200, answer.text
        found = answer.json()["deliveries"]
        if (found and found[0]["status"] == "failed") or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_a_lost_key_is_said_clearly(
    network: Network, hook: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    key = api_key(network)
    created = subscribe(network, key, hook, event_types=["order.confirmed"])
    service = network.seller_app.state.service
    key_file = _key_dir(network) / KEY_FILE
    key_file.unlink()  # the key was not backed up with the private keys
    # At the next start a new key is made; the stored secret cannot be opened with it.
    restarted = create_app(service.settings)
    restarted.state.service.engine.dispose()
    assert "illisible" in caplog.text and str(created["id"]) in caplog.text
    # the running node now holds the key its next start would load
    service.webhooks.cipher = SecretCipher.load_or_create(_key_dir(network))

    listed = api(network, "GET", f"/api/providers/{CAPITALE}/webhooks", key)
    assert listed.status_code == 200
    assert listed.json()["webhooks"][0]["needs_new_secret"] is True
    confirm(network, (SYRUP, 6))
    (delivery,) = _deliveries(network, key, created["id"])
    assert delivery["status"] == "failed" and "secret" in delivery["last_error"]
    assert hook.attempts == []  # nothing sent with a wrong signature
