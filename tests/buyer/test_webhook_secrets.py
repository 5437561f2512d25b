"""The buyer node keeps its organisations' webhook secrets sealed too (SQLite and PostgreSQL):
the raw row holds no clear secret, the key file sits in the node's key folder (0600), and the
API shows only the secret's prefix."""

from __future__ import annotations

import stat
from pathlib import Path

import sqlalchemy as sa

from reseau_poles.participant.webhook_secrets import KEY_FILE, SEALED

from .conftest import World


def test_an_organisation_secret_is_sealed_at_rest(world: World) -> None:
    webhooks = world.buyer_app.state.orders.webhooks
    created = world.api("POST", "/api/webhooks", json={"url": "https://crochets.exemple.ca/e"})
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]
    with world.buyer_app.state.service.engine.connect() as connection:
        stored = connection.execute(sa.select(webhooks.table.c.secret)).scalar_one()
    assert stored.startswith(SEALED) and secret not in stored
    assert webhooks.cipher.open(stored) == secret  # what deliveries sign with
    key_file = Path(world.buyer_app.state.service.settings.key_dir) / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    (listed,) = world.api("GET", "/api/webhooks").json()["webhooks"]
    assert secret.startswith(listed["secret_prefix"]) and listed["needs_new_secret"] is False
