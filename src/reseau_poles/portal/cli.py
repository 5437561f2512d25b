"""``reseau-poles buyer accounts …`` and ``reseau-poles seller accounts …``: the portal's
accounts from the command line, one implementation for both roles.

create --organisation ID --email E --name N --role R [--role R …] [--password-stdin]
list [--organisation ID]
deactivate --email E

A role adds them with :func:`add_accounts_commands`, naming its modules (imported only when a
command runs, so that ``--help`` loads nothing heavy): ``app_module`` has ``migrate``,
``portal_module`` has ``ACCOUNTS`` (:class:`~.accounts.Accounts`) and
``organisation_name(session, organisation_id)``. Every change is written to the portal's
audit (no user: the command line).
"""

# No ``from __future__ import annotations``: the commands' help texts are built in
# add_accounts_commands (the role's words), and Typer reads them from live annotations.
import importlib
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Fichier TOML de configuration.", exists=True),
]
DatabaseOption = Annotated[str | None, typer.Option(help="URL de la base (sinon : configuration).")]

out = Console()
err = Console(stderr=True)
BY_COMMAND_LINE = {"par": "ligne de commande"}


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]Erreur :[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def add_accounts_commands(
    app: typer.Typer,
    *,
    load_settings: Callable[..., Any],
    app_module: str,
    portal_module: str,
    organisation_of: str,
    unknown_organisation: str,
    roles: Sequence[str],
) -> None:
    """``accounts create|list|deactivate`` under ``app``. The role's words: ``organisation_of``
    (« de l'organisation », « du pôle »), ``unknown_organisation`` (« organisation « {id} »
    inconnue ou inactive »); ``roles`` (:mod:`.roles`) are shown in the help."""
    accounts_app = typer.Typer(
        help="Comptes des personnes du portail (courriel et mot de passe, rôles).",
        no_args_is_help=True,
    )
    app.add_typer(accounts_app, name="accounts")

    def module(name: str) -> Any:
        return importlib.import_module(name)

    @contextmanager
    def database(config: Path | None, database_url: str | None) -> Iterator[Any]:
        from reseau_poles.storage import make_engine, make_session_factory

        settings = load_settings(config)
        engine = make_engine(database_url or settings.database_url)
        try:
            if settings.auto_migrate:
                module(app_module).migrate(engine)
            yield make_session_factory(engine)
        finally:
            engine.dispose()

    roles_text = ", ".join(roles)

    @accounts_app.command("create")
    def create(
        organisation: Annotated[
            str, typer.Option("--organisation", "-o", help=f"Identifiant {organisation_of}.")
        ],
        email: Annotated[str, typer.Option(help="Adresse courriel (l'identifiant de connexion).")],
        name: Annotated[str, typer.Option(help="Nom de la personne.")],
        role: Annotated[
            list[str],
            typer.Option(
                "--role",
                "-r",
                help=f"Rôle (répétable, ou liste séparée par des virgules) : {roles_text}.",
            ),
        ],
        password_stdin: Annotated[
            bool,
            typer.Option(
                "--password-stdin",
                help="Lire le mot de passe sur l'entrée standard (sa première ligne).",
            ),
        ] = False,
        config: ConfigOption = None,
        database_url: DatabaseOption = None,
    ) -> None:
        """Créer un compte actif (mot de passe demandé, ou lu avec --password-stdin)."""
        from reseau_poles.storage import write_session

        from .accounts import AccountError

        password = _read_password(password_stdin)
        portal = module(portal_module)
        with database(config, database_url) as factory, write_session(factory) as session:
            if portal.organisation_name(session, organisation) is None:
                raise _fail(unknown_organisation.format(id=organisation) + ".")
            try:
                user = portal.ACCOUNTS.create_user(
                    session,
                    organisation_id=organisation,
                    email=email,
                    name=name,
                    roles=role,
                    password=password,
                )
            except AccountError as exc:
                raise _fail(f"--{exc.field} : {exc}", 2) from None
            portal.ACCOUNTS.audit(
                session,
                None,
                "compte.cree",
                user.email,
                {**BY_COMMAND_LINE, "roles": list(user.roles)},
                organisation_id=organisation,
            )
        out.print(
            f"Compte [bold]{user.email}[/] créé pour {organisation} (rôles : {', '.join(user.roles)}).",
            highlight=False,
            soft_wrap=True,
        )

    @accounts_app.command("list")
    def list_accounts(
        organisation: Annotated[
            str | None,
            typer.Option(
                "--organisation", "-o", help=f"Identifiant {organisation_of} (sinon : tous)."
            ),
        ] = None,
        config: ConfigOption = None,
        database_url: DatabaseOption = None,
    ) -> None:
        """Les comptes (actifs et désactivés), par organisation et adresse."""
        from rich.table import Table

        from reseau_poles.storage import read_session

        portal = module(portal_module)
        with database(config, database_url) as factory, read_session(factory) as session:
            users = portal.ACCOUNTS.list_users(session, organisation)
        if not users:
            out.print("Aucun compte.")
            return
        table = Table(header_style="bold")
        for column in (
            "id",
            "organisation",
            "courriel",
            "nom",
            "rôles",
            "état",
            "dernière connexion",
        ):
            # The identifiers whole (to copy them); the other columns wrap on a narrow terminal.
            table.add_column(column, no_wrap=column in ("id", "organisation", "courriel"))
        for user in users:
            table.add_row(
                str(user.id),
                user.organisation_id,
                user.email,
                user.name,
                ", ".join(user.roles),
                "actif" if user.active else "désactivé",
                user.last_login_at.isoformat(timespec="minutes") if user.last_login_at else "—",
            )
        out.print(table)

    @accounts_app.command("deactivate")
    def deactivate(
        email: Annotated[str, typer.Option(help="Adresse courriel du compte.")],
        config: ConfigOption = None,
        database_url: DatabaseOption = None,
    ) -> None:
        """Désactiver un compte : ses sessions prennent fin aussitôt."""
        from reseau_poles.storage import write_session

        portal = module(portal_module)
        with database(config, database_url) as factory, write_session(factory) as session:
            user = portal.ACCOUNTS.user_by_email(session, email)
            if user is None:
                raise _fail(f"aucun compte « {email.strip().lower()} ».")
            changed = portal.ACCOUNTS.deactivate(session, user.id)
            if changed:
                portal.ACCOUNTS.audit(
                    session,
                    None,
                    "compte.desactive",
                    user.email,
                    dict(BY_COMMAND_LINE),
                    organisation_id=user.organisation_id,
                )
        if changed:
            out.print(f"Compte [bold]{user.email}[/] désactivé.", highlight=False, soft_wrap=True)
        else:
            out.print(f"Compte {user.email} déjà désactivé.", highlight=False, soft_wrap=True)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise _fail("--password-stdin : aucun mot de passe sur l'entrée standard.", 2)
        return password
    if not sys.stdin.isatty():
        raise _fail("pas de terminal : donnez le mot de passe avec --password-stdin.", 2)
    return str(typer.prompt("Mot de passe", hide_input=True, confirmation_prompt="Encore une fois"))
