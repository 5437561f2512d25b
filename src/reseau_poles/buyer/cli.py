"""``reseau-poles buyer …``: run the buyer node, keep its database, give out API keys."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console

from reseau_poles.participant.cli import (
    ConfigOption,
    DatabaseOption,
    add_node_commands,
    imported_when_called,
)
from reseau_poles.portal.cli import add_accounts_commands
from reseau_poles.portal.roles import BUYER_ROLES

load_settings = imported_when_called("reseau_poles.buyer.settings", "load_settings")

app = typer.Typer(
    help="Nœud acheteur (BAP) pour les applications et les acheteurs institutionnels.",
    no_args_is_help=True,
)
out = Console()
err = Console(stderr=True)


add_node_commands(
    app,
    label="nœud acheteur",
    load_settings=load_settings,
    app_module="reseau_poles.buyer.app",
)
add_accounts_commands(
    app,
    load_settings=load_settings,
    app_module="reseau_poles.buyer.app",
    portal_module="reseau_poles.buyer.web.portal",
    organisation_of="de l'organisation",
    unknown_organisation="organisation « {id} » inconnue ou inactive",
    roles=BUYER_ROLES,
)


@app.command("organisation")
def organisation(
    organisation_id: Annotated[str, typer.Argument(help="Identifiant court (ex. css-capitale).")],
    name: Annotated[str | None, typer.Option(help="Nom (à la création).")] = None,
    label: Annotated[str | None, typer.Option(help="Étiquette de la clé.")] = None,
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Créer l'organisation au besoin et lui donner une nouvelle clé d'API (affichée une fois)."""
    from reseau_poles.storage import make_engine, make_session_factory, write_session

    from .app import migrate as run_migrations
    from .repositories import organisations as repo

    url = database_url or load_settings(config).database_url
    engine = make_engine(url)
    try:
        run_migrations(engine)
        with write_session(make_session_factory(engine)) as session:
            if repo.get_organisation(session, organisation_id) is None:
                if not name:
                    err.print(
                        "[red]Erreur :[/] organisation inconnue ; donnez --name pour la créer."
                    )
                    raise typer.Exit(2)
                repo.add_organisation(session, organisation_id, name)
            key = repo.create_api_key(session, organisation_id, label)
    finally:
        engine.dispose()
    out.print(
        f"Clé d'API de [bold]{organisation_id}[/] (conservez-la, elle ne sera plus affichée) :"
    )
    print(key)


@app.command("approval")
def approval(
    organisation_id: Annotated[str, typer.Argument(help="Identifiant de l'organisation.")],
    required: Annotated[
        bool | None,
        typer.Option(
            "--required/--not-required",
            help="Exiger l'approbation de chaque panier avant la commande, ou non.",
        ),
    ] = None,
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Dire (ou changer) si les paniers de l'organisation demandent l'approbation d'un
    approbateur avant la commande (comme la page /portail/organisation)."""
    from reseau_poles.storage import make_engine, make_session_factory, write_session

    from .app import migrate as run_migrations
    from .repositories import organisations as repo
    from .web.portal import ACCOUNTS

    engine = make_engine(database_url or load_settings(config).database_url)
    try:
        run_migrations(engine)
        with write_session(make_session_factory(engine)) as session:
            if repo.get_organisation(session, organisation_id) is None:
                err.print(f"[red]Erreur :[/] organisation « {organisation_id} » inconnue.")
                raise typer.Exit(1)
            if required is not None:
                repo.set_requires_approval(session, organisation_id, required)
                ACCOUNTS.audit(
                    session,
                    None,
                    "organisation.approbation",
                    organisation_id,
                    {"requise": required, "par": "ligne de commande"},
                    organisation_id=organisation_id,
                )
            now = repo.requires_approval(session, organisation_id)
    finally:
        engine.dispose()
    out.print(
        f"[bold]{organisation_id}[/] : "
        + (
            "approbation requise avant chaque commande."
            if now
            else "les acheteurs commandent directement."
        )
    )


key_app = typer.Typer(help="Clés d'API des organisations.", no_args_is_help=True)
app.add_typer(key_app, name="key")


@key_app.command("revoke")
def revoke_key(
    organisation_id: Annotated[str, typer.Argument(help="Identifiant de l'organisation.")],
    prefix: Annotated[str, typer.Argument(help="Début de la clé (ses premiers caractères).")],
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Révoquer une clé d'API : les demandes qui la portent reçoivent 401 aussitôt."""
    from reseau_poles.storage import make_engine, make_session_factory, write_session

    from .app import migrate as run_migrations
    from .repositories import organisations as repo

    engine = make_engine(database_url or load_settings(config).database_url)
    try:
        run_migrations(engine)
        with write_session(make_session_factory(engine)) as session:
            done = repo.revoke_api_key(session, organisation_id, prefix.strip()[:16])
    finally:
        engine.dispose()
    if not done:
        err.print(
            f"[red]Erreur :[/] aucune clé active de « {organisation_id} » ne commence par "
            f"« {prefix} »."
        )
        raise typer.Exit(1)
    out.print(f"Clé « {prefix} » de [bold]{organisation_id}[/] révoquée.")


@app.command("report")
def report(
    organisation_id: Annotated[
        str, typer.Option("--organisation", "-o", help="Identifiant de l'organisation.")
    ],
    start: Annotated[str, typer.Option("--from", help="Premier jour (AAAA-MM-JJ), inclus.")],
    end: Annotated[str, typer.Option("--to", help="Dernier jour (AAAA-MM-JJ), inclus.")],
    out_file: Annotated[
        str | None,
        typer.Option("--out", help="Fichier à écrire (.csv, ou .json) ; sinon la sortie standard."),
    ] = None,
    kind: Annotated[
        str | None, typer.Option("--format", help="csv ou json (d'après --out sinon csv).")
    ] = None,
    decimal: Annotated[
        str, typer.Option(help="virgule (; et 12,50 : Excel fr-CA) ou point (CSV standard).")
    ] = "virgule",
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Rapport d'achat local d'une période (CSV ou JSON).

    Achats par région d'origine, parts Aliments du Québec, Aliments préparés au Québec et
    biologiques, sur les commandes confirmées ou livrées de la période."""
    import json
    from pathlib import Path

    from reseau_poles.participant import ApiError
    from reseau_poles.storage import make_engine, make_session_factory, read_session

    from .app import migrate as run_migrations
    from .repositories import organisations as repo
    from .services import reports

    try:
        low, high = reports.parse_period(start, end)
    except ApiError as exc:
        err.print(f"[red]Erreur :[/] --{exc.path} : {exc.message}")
        raise typer.Exit(2) from None
    chosen = kind or ("json" if out_file and out_file.endswith(".json") else "csv")
    if chosen not in ("csv", "json") or decimal not in ("virgule", "point"):
        err.print("[red]Erreur :[/] --format csv|json, --decimal virgule|point.")
        raise typer.Exit(2)
    engine = make_engine(database_url or load_settings(config).database_url)
    try:
        run_migrations(engine)
        with read_session(make_session_factory(engine)) as session:
            if repo.get_organisation(session, organisation_id) is None:
                err.print(f"[red]Erreur :[/] organisation « {organisation_id} » inconnue.")
                raise typer.Exit(1)
            figures = reports.local_purchasing(session, organisation_id, low, high)
    finally:
        engine.dispose()
    if chosen == "json":
        data = (json.dumps(figures, ensure_ascii=False, indent=2) + "\n").encode()
    elif out_file:
        data = reports.csv_bytes(figures, decimal_comma=decimal == "virgule")
    else:
        data = reports.report_csv(figures, decimal_comma=decimal == "virgule").encode()
    if out_file:
        Path(out_file).write_bytes(data)
        err.print(
            f"Rapport écrit dans {out_file} : {figures['orders']} commande(s), "
            f"{figures['totals']['food_before_tax']} $ avant taxes."
        )
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
