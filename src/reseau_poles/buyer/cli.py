"""``reseau-poles buyer …``: run the buyer node, keep its database, give out API keys."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from reseau_poles.storage import redact_url

from .settings import load_settings

app = typer.Typer(
    help="Nœud acheteur (BAP) pour les applications et les acheteurs institutionnels.",
    no_args_is_help=True,
)
out = Console()
err = Console(stderr=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Fichier TOML de configuration.", exists=True),
]
DatabaseOption = Annotated[str | None, typer.Option(help="URL de la base (sinon : configuration).")]


@app.command()
def serve(
    config: ConfigOption = None,
    host: Annotated[str | None, typer.Option(help="Adresse d'écoute.")] = None,
    port: Annotated[int | None, typer.Option(help="Port d'écoute.")] = None,
    migrate: Annotated[
        bool | None, typer.Option("--migrate/--no-migrate", help="Migrer la base au démarrage.")
    ] = None,
) -> None:
    """Lancer le nœud acheteur (HTTP)."""
    import uvicorn

    from .app import create_app

    overrides: dict[str, Any] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    if migrate is not None:
        overrides["auto_migrate"] = migrate
    settings = load_settings(config, **overrides)
    out.print(
        f"Nœud acheteur [bold]{settings.subscriber_id}[/] sur "
        f"http://{settings.host}:{settings.port} (adresse publique {settings.public_url}, "
        f"base {redact_url(settings.database_url)})"
    )
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")


@app.command()
def migrate(config: ConfigOption = None, database_url: DatabaseOption = None) -> None:
    """Créer ou mettre à jour les tables du nœud acheteur."""
    from .app import migrate as run_migrations

    url = database_url or load_settings(config).database_url
    revision = run_migrations(url)
    out.print(f"Base du nœud acheteur à jour : révision [bold]{revision}[/] ({redact_url(url)})")


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
