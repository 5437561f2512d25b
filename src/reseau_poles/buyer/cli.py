"""``reseau-poles buyer …``: run the buyer node, keep its database, give out API keys."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from reseau_poles.node.cli import ConfigOption, DatabaseOption, add_node_commands

from .settings import load_settings

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

    from . import repository as repo
    from .app import migrate as run_migrations

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
