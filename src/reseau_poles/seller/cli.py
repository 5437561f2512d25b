"""``reseau-poles seller …``: run the seller node and keep its database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from reseau_poles.storage import redact_url

from .settings import load_settings

app = typer.Typer(help="Nœud vendeur (BPP) d'un ou de plusieurs pôles.", no_args_is_help=True)
out = Console()

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Fichier TOML de configuration.", exists=True),
]


@app.command()
def serve(
    config: ConfigOption = None,
    host: Annotated[str | None, typer.Option(help="Adresse d'écoute.")] = None,
    port: Annotated[int | None, typer.Option(help="Port d'écoute.")] = None,
    migrate: Annotated[
        bool | None, typer.Option("--migrate/--no-migrate", help="Migrer la base au démarrage.")
    ] = None,
) -> None:
    """Lancer le nœud vendeur (HTTP)."""
    from reseau_poles.network.serving import serve as serve_http

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
        f"Nœud vendeur [bold]{settings.subscriber_id}[/] sur http://{settings.host}:{settings.port} "
        f"(adresse publique {settings.public_url}, base {redact_url(settings.database_url)})"
    )
    serve_http(create_app(settings), host=settings.host, port=settings.port)


@app.command()
def migrate(
    config: ConfigOption = None,
    database_url: Annotated[
        str | None, typer.Option(help="URL de la base (sinon : configuration).")
    ] = None,
) -> None:
    """Créer ou mettre à jour les tables du nœud vendeur."""
    from .app import migrate as run_migrations

    url = database_url or load_settings(config).database_url
    revision = run_migrations(url)
    out.print(f"Base du nœud vendeur à jour : révision [bold]{revision}[/] ({redact_url(url)})")
