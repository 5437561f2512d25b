"""The pôle's integrations (/gestion/integrations): webhook subscriptions and API keys through
the node's services — a secret or a key shown once on the page that answers its creation and
never again, a refused address beside its field, revocation and deletion audited; for the
roles gestion and admin only."""

from __future__ import annotations

import httpx
import pytest

from tests.seller.support import CAPITALE

from .conftest import ADMIN, OTHER_POLE, PREPARER, Pole

pytestmark = pytest.mark.anyio


async def test_an_api_key_is_shown_once_works_and_is_revoked(pole: Pole) -> None:
    client = await pole.signed_in(ADMIN)
    page = await client.get("/gestion/integrations")
    assert page.status_code == 200 and "Aucune clé pour l&#39;instant." in page.text
    created = await client.send_form("/gestion/integrations/cles", {"label": "Inventaire"})
    assert created.status_code == 201
    assert created.headers["cache-control"] == "no-store"
    key = created.text.split('id="nouvelle-cle" type="text" readonly value="')[1].split('"')[0]
    assert key.startswith("rpv_") and len(key) > 40
    # The key opens the management API of this pôle.
    api = httpx.AsyncClient(transport=httpx.ASGITransport(app=pole.app), base_url="http://t")
    products = await api.get(f"/api/providers/{CAPITALE}/products", headers={"X-API-Key": key})
    assert products.status_code == 200
    # Listed by its start and label only, never again whole.
    listed = await client.get("/gestion/integrations")
    assert key not in listed.text and key[:12] in listed.text and "Inventaire" in listed.text
    revoked = await client.send_form(f"/gestion/integrations/cles/{key[:12]}/revocation")
    assert revoked.status_code == 303
    again = await api.get(f"/api/providers/{CAPITALE}/products", headers={"X-API-Key": key})
    assert again.status_code == 401
    actions = [row["action"] for row in pole.audit()]
    assert actions[-2:] == ["cle_api.creee", "cle_api.revoquee"]
    assert all(key not in str(row) for row in pole.audit())  # the key is in no audit row
    unknown = await client.send_form("/gestion/integrations/cles/rpv_inconnu/revocation")
    assert unknown.status_code == 404


async def test_a_webhook_subscription_with_its_secret_once(pole: Pole) -> None:
    client = await pole.signed_in()
    created = await client.send_form(
        "/gestion/integrations/webhooks",
        {
            "url": "http://127.0.0.1:9/crochet",
            "description": "Logiciel d'entrepôt",
            "event_types": ["order.confirmed", "fulfillment.changed"],
        },
    )
    assert created.status_code == 201, created.text
    secret = created.text.split('id="secret-webhook" type="text" readonly value="')[1].split('"')[0]
    assert len(secret) > 20
    (hook,) = await pole.services.webhooks.list(CAPITALE)
    assert hook["event_types"] == ["order.confirmed", "fulfillment.changed"]
    listed = await client.get("/gestion/integrations")
    assert secret not in listed.text and "Commande confirmée" in listed.text
    deliveries = await client.get(f"/gestion/integrations/webhooks/{hook['id']}")
    assert deliveries.status_code == 200 and "Aucun envoi pour l&#39;instant." in deliveries.text
    deleted = await client.send_form(f"/gestion/integrations/webhooks/{hook['id']}/suppression")
    assert deleted.status_code == 303
    assert await pole.services.webhooks.list(CAPITALE) == []
    assert [r["action"] for r in pole.audit()][-2:] == ["webhook.cree", "webhook.supprime"]
    gone = await client.get(f"/gestion/integrations/webhooks/{hook['id']}")
    assert gone.status_code == 404


async def test_a_refused_address_or_no_event_is_said_beside_its_field(pole: Pole) -> None:
    client = await pole.signed_in()
    bad = await client.send_form(
        "/gestion/integrations/webhooks", {"url": "ftp://x.example/", "event_types": ["*"]}
    )
    assert bad.status_code == 422
    assert 'id="champ-url-erreur"' in bad.text and "Adresse invalide" in bad.text
    assert 'value="ftp://x.example/"' in bad.text
    none = await client.send_form(
        "/gestion/integrations/webhooks", {"url": "https://x.example/", "event_types": ["autre"]}
    )
    assert none.status_code == 422 and "Choisissez au moins un événement connu." in none.text
    assert await pole.services.webhooks.list(CAPITALE) == []


async def test_only_gestion_and_admin_see_integrations(pole: Pole) -> None:
    preparer = await pole.signed_in(PREPARER)
    assert (await preparer.get("/gestion/integrations")).status_code == 403
    refused = await preparer.send_form("/gestion/integrations/cles", {"label": "x"})
    assert refused.status_code == 403
    assert pole.services.api_keys.keys(CAPITALE) == []
    # Another pôle's key cannot be revoked from here.
    key = pole.services.api_keys.create(CAPITALE, "capitale")
    other = await pole.signed_in(OTHER_POLE)
    answer = await other.send_form(f"/gestion/integrations/cles/{key[:12]}/revocation")
    assert answer.status_code == 404
    assert pole.services.api_keys.keys(CAPITALE)[0]["revoked_at"] is None
