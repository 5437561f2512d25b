"""Signing in and out of the portal, on the buyer's and the seller's real applications: the
same refusal whether the account exists or not, the limits per account and per address, the
session cookie's flags, a session that ends on the server, and the audit of each step."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from reseau_poles.buyer.web.portal import ACCOUNTS as BUYER_ACCOUNTS
from reseau_poles.network import NetworkSettings
from reseau_poles.portal.site import LoginLimits
from reseau_poles.storage import utcnow, write_session

from .conftest import ORGANISATION, PASSWORD, Node, client_of, csrf_of, make_buyer, sign_in

pytestmark = pytest.mark.anyio


def _refusal(page_text: str) -> bool:
    return "Adresse courriel ou mot de passe incorrect." in page_text


async def test_sign_in_then_home_then_sign_out(buyer: Node) -> None:
    client = buyer.client()
    answer = await sign_in(client, "/portail", "Acheteur@CSS.example")  # the address's case is free
    assert answer.status_code == 303 and answer.headers["location"] == "/portail/"
    home = await client.get("/portail/")
    assert home.status_code == 200
    assert "Bonjour, Acheteur" in home.text
    assert "Centre de services scolaire de la Capitale" in home.text
    for section in ("/portail/recherche", "/portail/paniers", "/portail/commandes"):
        assert f'href="{section}"' in home.text
    assert 'href="/portail/comptes"' not in home.text  # not an admin

    token = client.cookies.get("rp_session")
    out = await client.post("/portail/deconnexion", data={"csrf_token": csrf_of(home)})
    assert out.status_code == 303 and out.headers["location"] == "/portail/connexion"
    assert "rp_session" not in client.cookies
    # The old cookie opens nothing: the session is gone from the database.
    again = buyer.client()
    again.cookies.set("rp_session", token, path="/portail")
    answer = await again.get("/portail/")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/portail/connexion?suivant=/portail/"
    with write_session(buyer.factory) as session:
        assert (
            session.scalar(sa.select(sa.func.count()).select_from(buyer.accounts.tables.sessions))
            == 0
        )
    assert buyer.audit_actions() == ["session.ouverte", "session.fermee"]
    # The next page says goodbye, once.
    page = await client.get("/portail/connexion")
    assert "Vous êtes déconnecté." in page.text


async def test_wrong_password_and_unknown_account_get_the_same_answer(buyer: Node) -> None:
    client = buyer.client()
    wrong = await sign_in(client, "/portail", "acheteur@css.example", "pas-le-bon-mot")
    unknown = await sign_in(client, "/portail", "personne@css.example", "pas-le-bon-mot")
    assert wrong.status_code == unknown.status_code == 400
    assert _refusal(wrong.text) and _refusal(unknown.text)
    assert "rp_session" not in client.cookies
    # What was typed stays (but never the password).
    assert 'value="personne@css.example"' in unknown.text
    assert "pas-le-bon-mot" not in unknown.text
    assert buyer.audit_actions() == ["session.refusee", "session.refusee"]


async def test_back_where_the_person_was_going(buyer: Node) -> None:
    client = buyer.client()
    first = await client.get("/portail/comptes?x=1")
    assert first.status_code == 303
    assert first.headers["location"] == "/portail/connexion?suivant=/portail/comptes%3Fx%3D1"
    page = await client.get(first.headers["location"])
    assert 'name="suivant" value="/portail/comptes?x=1"' in page.text
    answer = await sign_in(client, "/portail", "admin@css.example", suivant="/portail/comptes?x=1")
    assert answer.headers["location"] == "/portail/comptes?x=1"
    # Never to another site.
    other = buyer.client()
    answer = await sign_in(
        other, "/portail", "admin@css.example", suivant="https://ailleurs.example/"
    )
    assert answer.headers["location"] == "/portail/"


async def test_failures_per_account_are_limited(buyer: Node) -> None:
    client = buyer.client()
    for _ in range(5):
        assert (
            await sign_in(client, "/portail", "acheteur@css.example", "mauvais-mot")
        ).status_code == 400
    # Even the right password now waits: the limit is the account's, whoever tries.
    limited = await sign_in(buyer.client(), "/portail", "acheteur@css.example")
    assert limited.status_code == 429
    assert "Trop de tentatives de connexion" in limited.text
    assert 0 < int(limited.headers["Retry-After"]) <= 15 * 60 + 1
    # Another account from the same address is not held by it.
    assert (await sign_in(client, "/portail", "admin@css.example")).status_code == 303
    # The failures leave the window: the account opens again.
    with write_session(buyer.factory) as session:
        failures = buyer.accounts.tables.login_failures
        session.execute(sa.update(failures).values(at=utcnow() - timedelta(minutes=16)))
    assert (await sign_in(buyer.client(), "/portail", "acheteur@css.example")).status_code == 303
    actions = buyer.audit_actions()
    assert actions.count("session.refusee") == 5 and "session.limitee" in actions


async def test_failures_per_address_are_limited(buyer: Node) -> None:
    buyer.app.state.portal.login_limits = LoginLimits(per_account=5, per_address=3)
    client = buyer.client()
    for n in range(3):  # three different addresses, one failure each
        assert (
            await sign_in(client, "/portail", f"essai{n}@css.example", "x" * 12)
        ).status_code == 400
    limited = await sign_in(client, "/portail", "acheteur@css.example")
    assert limited.status_code == 429 and "Retry-After" in limited.headers


async def test_session_cookie_flags(buyer: Node, database_url: str, tmp_path: Path) -> None:
    answer = await sign_in(buyer.client(), "/portail", "acheteur@css.example")
    cookie = answer.headers["set-cookie"].lower()
    assert "rp_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert "path=/portail" in cookie and "secure" not in cookie
    # Over https: Secure.
    answer = await sign_in(buyer.client("https://testserver"), "/portail", "acheteur@css.example")
    assert "; secure" in answer.headers["set-cookie"].lower()
    # Behind a proxy ending TLS: the node's public URL is https, so Secure even over http.
    app = make_buyer(database_url, tmp_path / "https", public_url="https://acheteur.example")
    try:
        page = await client_of(app).get("/portail/connexion")
        assert "; secure" in page.headers["set-cookie"].lower()
    finally:
        app.state.engine.dispose()


async def test_a_session_ends_when_idle_and_for_a_deactivated_account(buyer: Node) -> None:
    client = buyer.client()
    await sign_in(client, "/portail", "acheteur@css.example")
    assert (await client.get("/portail/")).status_code == 200
    sessions = buyer.accounts.tables.sessions
    with write_session(buyer.factory) as session:
        session.execute(sa.update(sessions).values(last_seen_at=utcnow() - timedelta(hours=13)))
    assert (await client.get("/portail/")).status_code == 303
    await sign_in(client, "/portail", "acheteur@css.example")
    with write_session(buyer.factory) as session:  # the idle session went at this sign-in
        assert session.scalar(sa.select(sa.func.count()).select_from(sessions)) == 1
        user = buyer.accounts.user_by_email(session, "acheteur@css.example")
        assert user is not None and user.last_login_at is not None
        buyer.accounts.deactivate(session, user.id)
    assert (await client.get("/portail/")).status_code == 303
    refused = await sign_in(buyer.client(), "/portail", "acheteur@css.example")
    assert refused.status_code == 400 and _refusal(refused.text)


async def test_csrf_less_posts_are_refused(buyer: Node) -> None:
    client = buyer.client()
    # The sign-in form without its pre-session token.
    refused = await client.post(
        "/portail/connexion", data={"email": "acheteur@css.example", "password": PASSWORD}
    )
    assert refused.status_code == 403 and "formulaire de connexion a expiré" in refused.text
    assert "rp_session" not in client.cookies
    await sign_in(client, "/portail", "acheteur@css.example")
    # Signed in, a form without the token, or with another, is refused; nothing changes.
    for data, headers in (({}, {}), ({"csrf_token": "autre"}, {}), ({}, {"X-CSRF-Token": "x"})):
        answer = await client.post("/portail/deconnexion", data=data, headers=headers)
        assert answer.status_code == 403, answer.text
        assert "ne vient pas de ce site" in answer.text
    assert (await client.get("/portail/")).status_code == 200  # still signed in
    # htmx sends it as a header.
    token = csrf_of(await client.get("/portail/"))
    answer = await client.post("/portail/deconnexion", headers={"X-CSRF-Token": token})
    assert answer.status_code == 303


async def test_the_seller_portal_signs_in_a_poles_staff(seller: Node) -> None:
    client = seller.client()
    assert (await sign_in(client, "/gestion", "gestion@capitale.example")).status_code == 303
    home = await client.get("/gestion/")
    assert "Pôle : Pôle agroalimentaire de la Capitale" in home.text
    for link in ("/gestion/produits", "/gestion/commandes", "/gestion/integrations"):
        assert f'href="{link}"' in home.text
    # Another pôle's account on the same node sees its own pôle.
    other = seller.client()
    await sign_in(other, "/gestion", "estrie@estrie.example")
    assert "Estrie" in (await other.get("/gestion/")).text
    # The buyer's cookie path and the seller's never mix.
    assert client.cookies.get("rp_session", path="/gestion")


async def test_an_inactive_organisation_signs_nobody_in(buyer: Node) -> None:
    from reseau_poles.buyer.tables import organisations

    client = buyer.client()
    await sign_in(client, "/portail", "acheteur@css.example")
    with write_session(buyer.factory) as session:
        session.execute(
            sa.update(organisations).where(organisations.c.id == ORGANISATION).values(active=False)
        )
    assert (await client.get("/portail/")).status_code == 303
    assert (await sign_in(buyer.client(), "/portail", "acheteur@css.example")).status_code == 400


async def test_the_transcript_keeps_no_password(database_url: str, tmp_path: Path) -> None:
    transcript = tmp_path / "transcript.jsonl"
    network = NetworkSettings(registry_url="http://127.0.0.1:9", transcript_path=str(transcript))
    app = make_buyer(database_url, tmp_path, network_settings=network)
    try:
        client = Node(app, BUYER_ACCOUNTS, "/portail", ORGANISATION).client()
        await client.post(
            "/portail/connexion", data={"email": "a@b.example", "password": "secret-123456"}
        )
        await client.post("/api/searches", json={})  # the API's POSTs are recorded as before
        app.state.network.transcript.close()
        text = transcript.read_text("utf-8")
        assert "/api/searches" in text and "secret-123456" not in text and "/portail" not in text
    finally:
        app.state.engine.dispose()
