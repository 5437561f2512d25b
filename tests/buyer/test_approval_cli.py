"""``reseau-poles buyer approval``: an operator says whether an organisation's carts need an
approver's approval, as its administrator does on /portail/organisation; audited."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from reseau_poles.buyer.app import migrate
from reseau_poles.buyer.repositories import organisations as repo
from reseau_poles.buyer.web.portal import ACCOUNTS
from reseau_poles.cli import app
from reseau_poles.storage import make_engine, make_session_factory, read_session, write_session

runner = CliRunner()


def test_the_approval_setting_from_the_command_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'acheteur.sqlite'}"
    engine = make_engine(url)
    migrate(engine)
    with write_session(make_session_factory(engine)) as session:
        repo.add_organisation(session, "css-capitale", "CSS de la Capitale")

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, ["buyer", "approval", *args, "--database-url", url])
        return result.exit_code, " ".join(result.output.split())

    assert run("css-capitale") == (0, "css-capitale : les acheteurs commandent directement.")
    assert run("css-capitale", "--required") == (
        0,
        "css-capitale : approbation requise avant chaque commande.",
    )
    with read_session(make_session_factory(engine)) as session:
        assert repo.requires_approval(session, "css-capitale")
        rows = ACCOUNTS.audit_rows(session, "css-capitale")
    assert rows[0]["action"] == "organisation.approbation"
    assert rows[0]["detail"]["requise"] is True and rows[0]["user_id"] is None
    assert run("css-capitale", "--not-required")[0] == 0
    with read_session(make_session_factory(engine)) as session:
        assert not repo.requires_approval(session, "css-capitale")
    code, output = run("inconnue", "--required")
    assert code == 1 and "inconnue" in output
    engine.dispose()
