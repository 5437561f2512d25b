"""``serve`` and ``migrate``, the same for every node: each role adds them to its Typer app."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from reseau_poles.storage import redact_url

from .settings import NodeSettings

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Fichier TOML de configuration.", exists=True),
]
DatabaseOption = Annotated[str | None, typer.Option(help="URL de la base (sinon : configuration).")]

out = Console()


def add_node_commands(
    app: typer.Typer,
    *,
    label: str,
    load_settings: Callable[..., NodeSettings],
    app_module: str,
) -> None:
    """Add ``serve`` and ``migrate`` to ``app``. ``label`` names the node in messages
    (« nœud vendeur »); ``app_module`` holds the role's ``create_app`` and ``migrate``, imported
    only when a command runs so that ``--help`` stays fast."""

    def role(name: str) -> Any:
        return getattr(importlib.import_module(app_module), name)

    @app.command()
    def serve(
        config: ConfigOption = None,
        host: Annotated[str | None, typer.Option(help="Adresse d'écoute.")] = None,
        port: Annotated[int | None, typer.Option(help="Port d'écoute.")] = None,
        auto_migrate: Annotated[
            bool | None,
            typer.Option("--migrate/--no-migrate", help="Migrer la base au démarrage."),
        ] = None,
    ) -> None:
        from reseau_poles.network.serving import serve as serve_http

        overrides: dict[str, Any] = {}
        if host is not None:
            overrides["host"] = host
        if port is not None:
            overrides["port"] = port
        if auto_migrate is not None:
            overrides["auto_migrate"] = auto_migrate
        settings = load_settings(config, **overrides)
        out.print(
            f"{label.capitalize()} [bold]{settings.subscriber_id}[/] sur "
            f"http://{settings.host}:{settings.port} (adresse publique {settings.public_url}, "
            f"base {redact_url(settings.database_url)})"
        )
        serve_http(role("create_app")(settings), host=settings.host, port=settings.port)

    serve.__doc__ = f"Lancer le {label} (HTTP)."

    @app.command("migrate")
    def run_migrate(config: ConfigOption = None, database_url: DatabaseOption = None) -> None:
        url = database_url or load_settings(config).database_url
        revision = role("migrate")(url)
        out.print(f"Base du {label} à jour : révision [bold]{revision}[/] ({redact_url(url)})")

    run_migrate.__doc__ = f"Créer ou mettre à jour les tables du {label}."
