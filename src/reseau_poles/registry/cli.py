"""``reseau-poles registry …``: run the registry, migrate its database, join it as a
participant, and administer it as the operator (requests signed with the operator's key)."""

from __future__ import annotations

import threading
import time
import tomllib
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlsplit

import typer
from rich.console import Console

from .admin_cli import admin_app

if TYPE_CHECKING:
    from reseau_poles.protocol.keys import SubscriberKeys


# `reseau-poles registry --help` must stay fast: HTTP clients, FastAPI, SQLAlchemy, the keys and
# the settings are imported by the commands that use them, when they run.

app = typer.Typer(
    help="Registre du réseau : service, migrations, inscription, administration.",
    no_args_is_help=True,
)
app.add_typer(admin_app, name="admin")  # the operator's commands

out = Console()
err = Console(stderr=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="Fichier TOML de configuration du registre.",
        envvar="RESEAU_POLES_CONFIG_FILE",
    ),
]


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]Erreur :[/] {message}")
    return typer.Exit(code)


# --- service ----------------------------------------------------------------------------------


@app.command()
def serve(
    config: ConfigOption = None,
    host: Annotated[str | None, typer.Option(help="Adresse d'écoute.")] = None,
    port: Annotated[int | None, typer.Option(help="Port d'écoute.")] = None,
    migrate: Annotated[
        bool | None, typer.Option("--migrate/--no-migrate", help="Migrer la base au démarrage.")
    ] = None,
    workers: Annotated[int, typer.Option(help="Processus uvicorn.")] = 1,
) -> None:
    """Lancer le registre (HTTP)."""
    from reseau_poles.network.serving import serve as serve_http
    from reseau_poles.storage import redact_url

    from .settings import load_settings

    overrides: dict[str, Any] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    if migrate is not None:
        overrides["auto_migrate"] = migrate
    settings = load_settings(config, **overrides)
    if settings.auto_migrate:
        from .app import migrate as run_migrations

        run_migrations(settings.database_url)
    out.print(
        f"Registre [bold]{settings.subscriber_id}[/] sur http://{settings.host}:{settings.port} "
        f"(politique {settings.policy.value}, base {redact_url(settings.database_url)})"
    )
    if workers > 1 and config is not None:
        # Each worker builds its own app from the same settings (environment / file).
        import os

        os.environ["RESEAU_POLES_CONFIG_FILE"] = str(config)
    app_or_none = None
    if workers <= 1:
        from .app import create_app

        app_or_none = create_app(settings.model_copy(update={"auto_migrate": False}))
    serve_http(
        app_or_none,
        host=settings.host,
        port=settings.port,
        workers=workers,
        factory="reseau_poles.registry.app:create_app",
        limits=settings,
    )


@app.command()
def migrate(
    config: ConfigOption = None,
    database_url: Annotated[
        str | None, typer.Option(help="URL de la base (sinon : configuration).")
    ] = None,
) -> None:
    """Créer ou mettre à jour les tables du registre."""
    from reseau_poles.storage import redact_url

    from .app import migrate as run_migrations
    from .settings import load_settings

    url = database_url or load_settings(config).database_url
    revision = run_migrations(url)
    out.print(f"Base du registre à jour : révision [bold]{revision}[/] ({redact_url(url)})")


# --- joining as a participant -------------------------------------------------------------------


def _participant_config(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise _fail(f"fichier introuvable : {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise _fail(f"{path} n'est pas du TOML valide : {exc}") from None
    # The participant's section may be at the top or under [participant].
    section = data.get("participant", data)
    missing = [k for k in ("url", "type", "domains", "regions", "keys") if k not in section]
    if missing:
        raise _fail(f"{path} : champ(s) manquant(s) : {', '.join(missing)}")
    section["_base"] = path.parent
    return section


def _keys(folder: Path, subscriber_id: str | None) -> SubscriberKeys:
    from reseau_poles.keystore import KeyFiles
    from reseau_poles.protocol.errors import KeyFormatError

    files = KeyFiles(folder)
    try:
        if subscriber_id:
            return files.load_or_generate(subscriber_id)
        return files.read()
    except KeyFormatError as exc:
        raise _fail(str(exc)) from None


class ChallengeListener:
    """A short-lived HTTP server answering the registry's challenge at ``…/on_subscribe``."""

    def __init__(
        self,
        keys: SubscriberKeys,
        url: str,
        listen: str | None,
        registry_url: str | None = None,
        key_dir: Path | None = None,
    ) -> None:
        import uvicorn
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import JSONResponse

        from reseau_poles.network.rotation import answer_registry_challenge

        parts = urlsplit(url)
        host, _, port = (listen or "").rpartition(":")
        self.host = host or "0.0.0.0"
        self.port = int(port) if port else parts.port or (443 if parts.scheme == "https" else 80)
        self.answered = threading.Event()
        listener = Starlette()

        async def on_subscribe(request: Request) -> JSONResponse:
            challenge = (await request.json())["challenge"]
            self.answered.set()
            answer = await answer_registry_challenge(
                keys,
                key_dir,
                challenge,
                registry_encryption_key=None,
                registry_url=registry_url,
            )
            return JSONResponse({"answer": answer})

        path = parts.path.rstrip("/")
        for route in {f"{path}/on_subscribe", "/on_subscribe"}:
            listener.add_route(route, on_subscribe, methods=["POST"])
        config = uvicorn.Config(listener, host=self.host, port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ChallengeListener:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise _fail(f"impossible d'écouter sur {self.host}:{self.port}")
            time.sleep(0.02)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@app.command()
def subscribe(
    registry: Annotated[
        str, typer.Option("--registry", help="URL du registre.", envvar="RESEAU_POLES_REGISTRY_URL")
    ],
    config: Annotated[Path, typer.Option("--config", "-c", help="Fichier TOML du participant.")],
    listen: Annotated[
        str | None,
        typer.Option(help="Écouter le défi sur HOTE:PORT (par défaut : le port de l'URL)."),
    ] = None,
    listener: Annotated[
        bool,
        typer.Option(
            "--listener/--no-listener",
            help="Ouvrir un écouteur temporaire pour le défi (sinon : le nœud répond).",
        ),
    ] = True,
) -> None:
    """Inscrire ce participant (ou mettre à jour son inscription, ou ajouter une clé)."""
    import httpx

    from reseau_poles.network.registry_client import (
        RegistryRefusal,
        build_record,
        post_signed,
        raise_for_nack,
        signer_for,
        unreachable,
    )

    section = _participant_config(config)
    base: Path = section["_base"]
    keys = _keys(base / section["keys"], section.get("subscriber_id"))
    signing_keys = keys
    if section.get("sign_with"):
        signing_keys = _keys(base / section["sign_with"], None)
    dates = {
        name: datetime.fromisoformat(str(section[name]).replace("Z", "+00:00"))
        for name in ("valid_from", "valid_until")
        if name in section
    }
    record = build_record(
        keys,
        url=section["url"],
        type=section["type"],
        domains=list(section["domains"]),
        regions=list(section["regions"]),
        country=section.get("country", "CAN"),
        **dates,
    )
    if section.get("challenge_scheme"):  # sealed_box or ondc: how the registry encrypts
        record["challenge_scheme"] = str(section["challenge_scheme"])
    out.print(
        f"Inscription de [bold]{keys.subscriber_id}[/] (clé {keys.key_id}) auprès de {registry}…"
    )
    try:
        with httpx.Client(timeout=30) as http:
            if listener:
                with ChallengeListener(
                    keys,
                    section["url"],
                    listen or section.get("listen"),
                    registry,
                    base / section["keys"],
                ):
                    response = post_signed(
                        http, f"{registry.rstrip('/')}/subscribe", record, signer_for(signing_keys)
                    )
            else:
                response = post_signed(
                    http, f"{registry.rstrip('/')}/subscribe", record, signer_for(signing_keys)
                )
            ack = raise_for_nack(response)
    except RegistryRefusal as exc:
        raise _fail(f"inscription refusée — {exc}") from None
    except httpx.HTTPError as exc:
        raise _fail(unreachable(registry, exc)) from None
    status = ack.get("subscriber", {}).get("status", "?")
    out.print(f"[green]Accepté[/] : statut [bold]{status}[/]")
    if status == "UNDER_SUBSCRIPTION":
        out.print("En attente de l'approbation de l'opérateur du réseau.")
