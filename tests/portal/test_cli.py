"""``reseau-poles buyer accounts …`` and ``reseau-poles seller accounts …``: one implementation
for both roles, on a real database; an account made here signs in on the node."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from reseau_poles.buyer.app import create_app as create_buyer
from reseau_poles.buyer.settings import BuyerSettings
from reseau_poles.buyer.web.portal import ACCOUNTS as BUYER_ACCOUNTS
from reseau_poles.cli import app as main_app
from reseau_poles.seller.app import migrate as migrate_seller
from reseau_poles.seller.web.portal import ACCOUNTS as SELLER_ACCOUNTS
from reseau_poles.storage import make_engine, make_session_factory, read_session
from tests.seller.support import CAPITALE, load_catalog

from .conftest import client_of, sign_in

PASSWORD = "motdepasse-cli-123"


def _run(*args: str, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main_app, list(args), input=input)
    return result.exit_code, result.output


def _audit(accounts, url: str) -> list[tuple[str, str | None, dict | None]]:
    engine = make_engine(url)
    try:
        with read_session(make_session_factory(engine)) as session:
            rows = accounts.audit_rows(session)
    finally:
        engine.dispose()
    return [(row["action"], row["target"], row["detail"]) for row in reversed(rows)]


def test_buyer_accounts_create_list_deactivate(database_url: str, tmp_path: Path) -> None:
    db = ["--database-url", database_url]
    code, out = _run("buyer", "organisation", "css-x", "--name", "CSS X", *db)
    assert code == 0, out
    create = [
        "buyer",
        "accounts",
        "create",
        "--organisation",
        "css-x",
        "--email",
        "Ana@CSS-X.example",
    ]
    code, out = _run(
        *create,
        "--name",
        "Ana",
        "--role",
        "acheteur,admin",
        "--password-stdin",
        *db,
        input=PASSWORD + "\n",
    )
    assert code == 0, out
    assert "ana@css-x.example" in out and "acheteur, admin" in out
    code, out = _run("buyer", "accounts", "list", *db)
    assert code == 0 and "ana@css-x.example" in out and "actif" in out and "css-x" in out

    # Refusals name what is wrong, and write nothing.
    code, out = _run(
        *create, "--name", "Ana", "--role", "acheteur", "--password-stdin", *db, input=PASSWORD
    )
    assert code == 2 and "déjà un compte" in out
    code, out = _run(
        "buyer",
        "accounts",
        "create",
        "--organisation",
        "inconnue",
        "--email",
        "b@x.example",
        "--name",
        "B",
        "--role",
        "acheteur",
        "--password-stdin",
        *db,
        input=PASSWORD,
    )
    assert code == 1 and "organisation « inconnue » inconnue ou inactive" in out
    code, out = _run(
        "buyer",
        "accounts",
        "create",
        "--organisation",
        "css-x",
        "--email",
        "b@x.example",
        "--name",
        "B",
        "--role",
        "gestion",
        "--password-stdin",
        *db,
        input=PASSWORD,
    )
    assert code == 2 and "rôles permis : acheteur, approbateur, admin" in out
    code, out = _run(
        "buyer",
        "accounts",
        "create",
        "--organisation",
        "css-x",
        "--email",
        "b@x.example",
        "--name",
        "B",
        "--role",
        "acheteur",
        "--password-stdin",
        *db,
        input="court\n",
    )
    assert code == 2 and "trop court" in out
    code, out = _run(
        "buyer",
        "accounts",
        "create",
        "--organisation",
        "css-x",
        "--email",
        "b@x.example",
        "--name",
        "B",
        "--role",
        "acheteur",
        *db,
    )
    assert code == 2 and "--password-stdin" in out  # no terminal to ask on

    # The account signs in on the node.
    app = create_buyer(
        BuyerSettings(
            database_url=database_url, key_dir=tmp_path / "k", registry_url="http://127.0.0.1:9"
        )
    )
    try:
        import anyio

        async def visit() -> int:
            client = client_of(app)
            answer = await sign_in(client, "/portail", "ana@css-x.example", PASSWORD)
            return answer.status_code

        assert anyio.run(visit) == 303
    finally:
        app.state.engine.dispose()

    code, out = _run("buyer", "accounts", "deactivate", "--email", "ANA@css-x.example", *db)
    assert code == 0 and "désactivé" in out
    code, out = _run("buyer", "accounts", "deactivate", "--email", "ana@css-x.example", *db)
    assert code == 0 and "déjà désactivé" in out
    code, out = _run("buyer", "accounts", "deactivate", "--email", "personne@x.example", *db)
    assert code == 1 and "aucun compte" in out
    assert [action for action, *_ in _audit(BUYER_ACCOUNTS, database_url)] == [
        "compte.cree",
        "session.ouverte",
        "compte.desactive",
    ]
    created = _audit(BUYER_ACCOUNTS, database_url)[0]
    assert created[1] == "ana@css-x.example" and created[2] == {
        "par": "ligne de commande",
        "roles": ["acheteur", "admin"],
    }


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_seller_accounts_for_a_pole(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate_seller(engine)
        load_catalog(engine)
    finally:
        engine.dispose()
    db = ["--database-url", database_url]
    code, out = _run(
        "seller",
        "accounts",
        "create",
        "-o",
        CAPITALE,
        "--email",
        "prep@capitale.example",
        "--name",
        "Paul",
        "-r",
        "preparation",
        "-r",
        "gestion",
        "--password-stdin",
        *db,
        input=PASSWORD,
    )
    assert code == 0, out
    assert "gestion, preparation" in out
    code, out = _run(
        "seller",
        "accounts",
        "create",
        "-o",
        "pole-inconnu",
        "--email",
        "x@y.example",
        "--name",
        "X",
        "-r",
        "gestion",
        "--password-stdin",
        *db,
        input=PASSWORD,
    )
    assert code == 1 and "pôle « pole-inconnu » inconnu ou inactif" in out
    code, out = _run("seller", "accounts", "list", "-o", CAPITALE, *db)
    assert code == 0 and "prep@capitale.example" in out
    code, out = _run("seller", "accounts", "list", "-o", "ailleurs", *db)
    assert code == 0 and "Aucun compte." in out
    assert [action for action, *_ in _audit(SELLER_ACCOUNTS, database_url)] == ["compte.cree"]
    code, out = _run("seller", "accounts", "--help")
    assert code == 0 and "create" in out and "deactivate" in out
