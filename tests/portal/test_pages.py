"""The portal's pages as the frame serves them: roles, htmx fragments, the language switch,
the organisation's accounts page, error pages instead of JSON, forms refused field by field
(never a 500), and the static files' cache."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from reseau_poles.portal.routes import CachedStatic

from .conftest import PASSWORD, Node, client_of, csrf_of, sign_in

pytestmark = pytest.mark.anyio


async def test_a_page_for_another_role_is_refused_with_a_page(buyer: Node) -> None:
    client = buyer.client()
    await sign_in(client, "/portail", "acheteur@css.example")
    page = await client.get("/portail/comptes")
    assert page.status_code == 403
    assert page.headers["content-type"].startswith("text/html")
    assert "Cette page est réservée aux rôles suivants : Administrateur." in page.text
    # The header still says who is signed in, with a way home.
    assert "Acheteur" in page.text and 'href="/portail/"' in page.text
    # A POST of an admin's form, with a valid token, is refused the same way.
    token = csrf_of(page)
    answer = await client.post(
        "/portail/comptes",
        data={"csrf_token": token, "email": "x@css.example", "name": "X", "roles": "acheteur"},
    )
    assert answer.status_code == 403


async def test_htmx_gets_the_fragment_and_every_page_varies_on_it(buyer: Node) -> None:
    client = buyer.client()
    await sign_in(client, "/portail", "acheteur@css.example")
    whole = await client.get("/portail/")
    part = await client.get("/portail/", headers={"HX-Request": "true"})
    boosted = await client.get("/portail/", headers={"HX-Request": "true", "HX-Boosted": "true"})
    for answer in (whole, part, boosted):
        assert answer.status_code == 200
        assert answer.headers["vary"] == "HX-Request"
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["x-frame-options"] == "DENY"
    assert whole.text.startswith("<!doctype html>") and "<header" in whole.text
    assert "<html" not in part.text and "<header" not in part.text
    assert "Bonjour, Acheteur" in part.text
    assert boosted.text.startswith("<!doctype html>")
    # Signed in: htmx sends the CSRF token from <body>.
    assert re.search(
        r"<body hx-headers='\{&#34;X-CSRF-Token&#34;|<body hx-headers='\{\"X-CSRF-Token\"",
        whole.text,
    )
    # Signed out, htmx is told where to go instead of getting a redirect it would swap in.
    anonymous = await buyer.client().get("/portail/", headers={"HX-Request": "true"})
    assert anonymous.status_code == 401
    assert anonymous.headers["hx-redirect"] == "/portail/connexion?suivant=/portail/"
    # A form sent by htmx after the session ended: back to the page it was on, after sign-in.
    anonymous = await buyer.client().post(
        "/portail/comptes",
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/portail/comptes?p=2"},
    )
    assert anonymous.status_code == 401
    assert anonymous.headers["hx-redirect"] == "/portail/connexion?suivant=/portail/comptes%3Fp%3D2"


TEMPLATE_DIRS = [
    Path(str(resources.files(package).joinpath("templates")))
    for package in ("reseau_poles.portal", "reseau_poles.buyer.web", "reseau_poles.seller.web")
]
# What a Content-Security-Policy without 'unsafe-inline' refuses to run or apply.
INLINE = re.compile(
    r"<script(?![^>]*\bsrc=)[^>]*>|\sstyle=|<style\b|\son[a-z]+=|javascript:", re.IGNORECASE
)


async def test_pages_run_and_style_only_the_sites_own_files(buyer: Node, seller: Node) -> None:
    """Every page says its Content-Security-Policy (scripts and styles of this site only, no
    eval, forms posted here, never framed), error pages and the sign-in page too; and no
    template has what that policy would refuse (an inline script, a style attribute, an
    ``on…=`` handler), so a page never breaks under it."""
    client = buyer.client()
    answers = [await client.get("/portail/connexion"), await client.get("/portail/inconnue")]
    await sign_in(client, "/portail", "acheteur@css.example")
    answers += [await client.get("/portail/"), await client.get("/portail/comptes")]
    answers.append(await seller.client().get("/gestion/connexion"))
    for answer in answers:
        policy = answer.headers["content-security-policy"]
        for rule in ("script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"):
            assert rule in policy, (answer.url, policy)
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert {answer.status_code for answer in answers} == {200, 403, 404}
    found = [
        f"{path.name}: {match.group(0)}"
        for folder in TEMPLATE_DIRS
        for path in sorted(folder.rglob("*.html"))
        for match in INLINE.finditer(path.read_text("utf-8"))
    ]
    assert found == []
    # htmx is told not to inject its indicator styles nor to eval (the policy would refuse).
    page = answers[2].text
    assert '"includeIndicatorStyles": false' in page and '"allowEval": false' in page


async def test_the_language_switch(buyer: Node) -> None:
    client = buyer.client()
    page = await client.get("/portail/connexion")
    assert '<html lang="fr-CA">' in page.text and "Se connecter" in page.text
    assert 'href="/portail/langue?lang=en&amp;suivant=/portail/connexion"' in page.text
    switch = await client.get("/portail/langue?lang=en&suivant=/portail/connexion")
    assert switch.status_code == 303 and switch.headers["location"] == "/portail/connexion"
    assert "rp_lang=en" in switch.headers["set-cookie"]
    page = await client.get("/portail/connexion")
    assert '<html lang="en-CA">' in page.text and "Sign in" in page.text
    assert page.headers["content-language"] == "en-CA"
    await sign_in(client, "/portail", "acheteur@css.example")
    home = await client.get("/portail/")
    assert "Hello, Acheteur" in home.text and "Orders" in home.text
    # ?lang= on any page also switches, and keeps the choice.
    home = await client.get("/portail/?lang=fr")
    assert "Bonjour, Acheteur" in home.text and "rp_lang=fr" in home.headers["set-cookie"]
    # An unknown language or a foreign destination changes nothing harmful.
    switch = await client.get("/portail/langue?lang=de&suivant=//ailleurs.example/")
    assert switch.headers["location"] == "/portail/" and "set-cookie" not in switch.headers


async def test_the_accounts_page_creates_and_deactivates(buyer: Node) -> None:
    admin = buyer.client()
    await sign_in(admin, "/portail", "admin@css.example")
    page = await admin.get("/portail/comptes")
    assert page.status_code == 200
    assert "acheteur@css.example" in page.text and "Nouveau compte" in page.text
    token = csrf_of(page)
    created = await admin.post(
        "/portail/comptes",
        data={
            "csrf_token": token,
            "name": "Béatrice Approbatrice",
            "email": "Beatrice@CSS.example",
            "roles": ["approbateur", "acheteur"],
            "password": "un-mot-de-passe-long",
        },
    )
    assert created.status_code == 303 and created.headers["location"] == "/portail/comptes"
    page = await admin.get("/portail/comptes")
    assert "Compte beatrice@css.example créé." in page.text
    assert "Béatrice Approbatrice" in page.text
    newcomer = buyer.client()
    assert (
        await sign_in(newcomer, "/portail", "beatrice@css.example", "un-mot-de-passe-long")
    ).status_code == 303
    assert (await newcomer.get("/portail/")).status_code == 200

    with buyer.factory() as session:
        target = buyer.accounts.user_by_email(session, "beatrice@css.example")
        assert target is not None and target.roles == ("acheteur", "approbateur")
    gone = await admin.post(
        f"/portail/comptes/{target.id}/desactivation", data={"csrf_token": token}
    )
    assert gone.status_code == 303
    assert (await newcomer.get("/portail/")).status_code == 303  # her session ended at once
    page = await admin.get("/portail/comptes")
    assert "Compte beatrice@css.example désactivé." in page.text and "Désactivé" in page.text
    # Not oneself; not another organisation's account.
    with buyer.factory() as session:
        me = buyer.accounts.user_by_email(session, "admin@css.example")
    assert me is not None
    answer = await admin.post(f"/portail/comptes/{me.id}/desactivation", data={"csrf_token": token})
    assert answer.status_code == 303
    assert (
        "Vous ne pouvez pas désactiver votre propre compte."
        in (await admin.get("/portail/comptes")).text
    )
    buyer.add_user("ailleurs@chu.example", ["acheteur"], organisation="chu-estrie")
    with buyer.factory() as session:
        stranger = buyer.accounts.user_by_email(session, "ailleurs@chu.example")
    assert stranger is not None
    answer = await admin.post(
        f"/portail/comptes/{stranger.id}/desactivation", data={"csrf_token": token}
    )
    assert answer.status_code == 404
    assert "ailleurs@chu.example" not in (await admin.get("/portail/comptes")).text
    actions = buyer.audit_actions()
    assert actions.count("compte.cree") == 1 and actions.count("compte.desactive") == 1


async def test_bad_form_input_is_the_form_again_never_a_500(buyer: Node) -> None:
    client = buyer.client()
    page = await client.get("/portail/connexion")
    token = csrf_of(page)
    answer = await client.post(
        "/portail/connexion", data={"csrf_token": token, "email": "a@b.example"}
    )
    assert answer.status_code == 400
    assert 'id="champ-password-erreur">Ce champ est obligatoire.' in answer.text
    assert 'value="a@b.example"' in answer.text
    answer = await client.post(
        "/portail/connexion",
        content=b"\xff\xfe",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code in (400, 403) and answer.headers["content-type"].startswith(
        "text/html"
    )

    await sign_in(client, "/portail", "admin@css.example")
    token = csrf_of(await client.get("/portail/comptes"))
    answer = await client.post(
        "/portail/comptes", data={"csrf_token": token, "email": "pas-une-adresse"}
    )
    assert answer.status_code == 400
    for field in ("name", "roles", "password"):
        assert f'id="champ-{field}-erreur"' in answer.text, field
    answer = await client.post(
        "/portail/comptes",
        data={
            "csrf_token": token,
            "name": "N",
            "email": "n@css.example",
            "roles": "acheteur",
            "password": "court",
        },
    )
    assert answer.status_code == 400 and "au moins 10 caractères" in answer.text
    answer = await client.post(
        "/portail/comptes",
        data={
            "csrf_token": token,
            "name": "N",
            "email": "acheteur@css.example",
            "roles": "acheteur",
            "password": PASSWORD,
        },
    )
    assert answer.status_code == 400 and "Cette adresse a déjà un compte." in answer.text
    answer = await client.post(
        "/portail/comptes/pas-un-nombre/desactivation", data={"csrf_token": token}
    )
    assert answer.status_code == 400 and "La demande est invalide" in answer.text
    answer = await client.put("/portail/comptes", data={"csrf_token": token})
    assert answer.status_code == 405 and answer.headers["content-type"].startswith("text/html")


async def test_errors_under_the_portal_are_pages_and_the_api_keeps_json(buyer: Node) -> None:
    client = buyer.client()
    page = await client.get("/portail/nulle-part")
    assert page.status_code == 404 and "Cette page n&#39;existe pas." in page.text
    api = await client.get("/api/nulle-part")
    assert api.status_code == 404 and api.json()["error"]["code"] == "adresse_inconnue"
    root = await client.get("/")
    assert root.status_code == 307 and root.headers["location"] == "/portail/"


async def test_an_unexpected_failure_is_a_page(buyer: Node) -> None:
    from fastapi import APIRouter

    router = APIRouter()

    @router.get("/portail/panne")
    async def broken() -> None:
        raise RuntimeError("panne voulue")

    buyer.app.include_router(router)
    client = client_of(buyer.app)
    answer = await client.get("/portail/panne")
    assert answer.status_code == 500
    assert "Erreur interne" in answer.text and "panne voulue" not in answer.text


async def test_the_seller_root_leads_to_gestion(seller: Node) -> None:
    root = await seller.client().get("/")
    assert root.status_code == 307 and root.headers["location"] == "/gestion/"
    assert (await seller.client().get("/gestion")).status_code == 307


async def test_static_files_are_cached(tmp_path: Path) -> None:
    (tmp_path / "portal.css").write_text("body { color: #111; }\n")
    app = Starlette(routes=[Mount("/static/portal", CachedStatic(directory=tmp_path))])
    client = client_of(app)
    plain = await client.get("/static/portal/portal.css")
    assert plain.status_code == 200 and plain.headers["cache-control"] == "public, max-age=3600"
    versioned = await client.get("/static/portal/portal.css?v=abc123")
    assert versioned.headers["cache-control"] == "public, max-age=31536000, immutable"
    again = await client.get(
        "/static/portal/portal.css", headers={"If-None-Match": plain.headers["etag"]}
    )
    assert again.status_code == 304


def _routes(routes: list) -> list:
    """Every route, those of included routers too (however FastAPI keeps them)."""
    found = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        found.extend(_routes(inner.routes) if inner is not None else [route])
    return found


def _calls(dependant) -> set:
    calls = {dependant.call}
    for sub in dependant.dependencies:
        calls |= _calls(sub)
    return calls


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_every_state_change_of_a_page_checks_the_session_and_csrf(
    buyer: Node, seller: Node
) -> None:
    """A page route that changes something (POST, PUT, PATCH, DELETE) depends on
    ``current_user`` (directly or through ``require_role``), which checks the CSRF token;
    only the sign-in form checks its own pre-session token."""
    from fastapi.routing import APIRoute

    from reseau_poles.portal.auth import current_user

    checked = 0
    for node in (buyer, seller):
        for route in _routes(node.app.router.routes):
            if not isinstance(route, APIRoute) or not route.path.startswith(node.prefix):
                continue
            if not route.methods & {"POST", "PUT", "PATCH", "DELETE"}:
                continue
            if route.path == f"{node.prefix}/connexion":
                continue
            assert current_user in _calls(route.dependant), route.path
            assert not route.include_in_schema, route.path
            checked += 1
    assert checked >= 6  # deconnexion, comptes, desactivation on each node
