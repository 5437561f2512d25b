"""The buyer node's webhooks follow the destination policy too (SQLite and PostgreSQL): a
forbidden URL gets a 400 on ``url`` with its reason and nothing is stored; the node's settings
reach the policy."""

from __future__ import annotations

import sqlalchemy as sa

from reseau_poles.network.destinations import DestinationPolicy

from .conftest import World


def test_forbidden_urls_get_a_400_on_url_and_nothing_is_stored(world: World) -> None:
    webhooks = world.buyer_app.state.orders.webhooks
    assert webhooks.policy == DestinationPolicy(allow_http=True, allow_private_networks=True)
    webhooks.policy = DestinationPolicy()  # a multi-tenant node's defaults
    for url, code in [
        ("http://169.254.169.254/latest/meta-data/", "destination_interdite"),
        ("https://[::ffff:127.0.0.1]:6379/", "destination_interdite"),
        ("https://0177.0.0.1/", "destination_interdite"),
        ("https://192.168.0.1./", "destination_interdite"),
        ("https://metadata.google.internal/", "destination_interdite"),
        ("https://crochets.exemple.ca@10.0.0.1/", "url_invalide"),
        ("http://crochets.exemple.ca/", "https_requis"),
    ]:
        answer = world.api("POST", "/api/webhooks", json={"url": url, "event_types": ["*"]})
        assert answer.status_code == 400, answer.text
        error = answer.json()["error"]
        assert (error["code"], error["path"]) == (code, "url"), (url, error)
        assert error["message"]
    assert world.api("GET", "/api/webhooks").json()["webhooks"] == []
    with world.buyer_app.state.service.engine.connect() as connection:
        count = connection.execute(
            sa.select(sa.func.count()).select_from(webhooks.table)
        ).scalar_one()
    assert count == 0
    created = world.api("POST", "/api/webhooks", json={"url": "https://crochets.exemple.ca/e"})
    assert created.status_code == 201, created.text
