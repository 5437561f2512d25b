"""``reseau-poles gateway …``: run the gateway, and register it with the registry as BG."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from reseau_poles.participant.cli import (
    CONFIG_FILE_ENV,
    HostOption,
    PortOption,
    RegistryOption,
    WorkersOption,
    add_rotate_key_command,
    given,
    imported_when_called,
    serve_role,
)

if TYPE_CHECKING:
    from reseau_poles.protocol.keys import SubscriberKeys

    from .settings import GatewaySettings

# What the commands need (httpx, uvicorn, the keys, the settings, the registry client) is
# imported when they run, so that `reseau-poles gateway --help` stays fast.

app = typer.Typer(
    help="Passerelle (BG) : reçoit les recherches des acheteurs et les diffuse aux vendeurs.",
    no_args_is_help=True,
)
out = Console()
err = Console(stderr=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Fichier TOML de configuration.", envvar=CONFIG_FILE_ENV),
]


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]Erreur :[/] {message}")
    return typer.Exit(code)


def _keys(settings: GatewaySettings) -> SubscriberKeys:
    from reseau_poles.keystore import KeyFiles
    from reseau_poles.protocol.errors import KeyFormatError

    try:
        return KeyFiles(settings.key_dir).load_or_generate(settings.subscriber_id)
    except KeyFormatError as exc:
        raise _fail(str(exc)) from None


def register(settings: GatewaySettings, keys: SubscriberKeys, *, timeout: float = 30) -> str:
    """``POST {registry}/subscribe`` for the gateway (type BG); the registry then posts its
    challenge to ``{public_url}/on_subscribe``, which the running gateway answers. Returns
    the status the registry gives (SUBSCRIBED, or UNDER_SUBSCRIPTION awaiting approval)."""
    from reseau_poles.network.registry_client import subscribe

    answer = subscribe(
        settings.registry_url,
        keys,
        url=settings.public_url.rstrip("/"),
        type="BG",
        domains=list(settings.domains),
        regions=list(settings.regions),
        country=settings.country,
        timeout=timeout,
    )
    return str(answer.get("status", "?"))


def _register_when_up(settings: GatewaySettings, keys: SubscriberKeys, local: str) -> None:
    """Wait for our own /health, then subscribe (the challenge needs us answering)."""
    import httpx

    from reseau_poles.network.registry_client import RegistryRefusal

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{local}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    try:
        status = register(settings, keys)
    except RegistryRefusal as exc:
        err.print(f"[red]Inscription refusée[/] — {exc}")
        return
    except httpx.HTTPError as exc:
        err.print(f"[red]Registre injoignable[/] ({type(exc).__name__}) : {settings.registry_url}")
        return
    out.print(f"Inscription auprès du registre : statut [bold]{status}[/]")


@app.command()
def serve(
    config: ConfigOption = None,
    host: HostOption = None,
    port: PortOption = None,
    workers: WorkersOption = 1,
    transcript: Annotated[
        Path | None,
        typer.Option("--transcript", help="Journal JSONL des messages reçus et envoyés."),
    ] = None,
    subscribe: Annotated[
        bool,
        typer.Option(
            "--subscribe/--no-subscribe",
            help="S'inscrire (ou se réinscrire) au registre comme BG une fois démarrée.",
        ),
    ] = False,
) -> None:
    """Lancer la passerelle (uvicorn avec uvloop et httptools)."""
    from .settings import load_settings

    overrides = given(
        host=host, port=port, transcript_path=str(transcript) if transcript is not None else None
    )
    try:
        settings = load_settings(config, **overrides)
    except (FileNotFoundError, ValueError) as exc:
        raise _fail(str(exc)) from None
    keys = _keys(settings)
    out.print(
        f"Passerelle [bold]{settings.subscriber_id}[/] (clé {keys.key_id}) sur "
        f"http://{settings.host}:{settings.port} — registre {settings.registry_url}, "
        f"{workers} processus"
    )
    if subscribe:
        local_host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
        threading.Thread(
            target=_register_when_up,
            args=(settings, keys, f"http://{local_host}:{settings.port}"),
            daemon=True,
        ).start()

    def build(settings: GatewaySettings) -> Any:
        from .app import create_app

        return create_app(settings, identity=keys)

    serve_role(
        settings,
        factory="reseau_poles.gateway.app:create_app",
        build=build,
        workers=workers,
        config=config,
        overrides=overrides,
        log_level="warning",
        access_log=False,
    )


@app.command("subscribe")
def subscribe_command(
    config: ConfigOption = None,
    registry: RegistryOption = None,
) -> None:
    """Inscrire la passerelle au registre (type BG). Elle doit être en marche à son URL
    publique : c'est elle qui répond au défi du registre sur /on_subscribe."""
    import httpx

    from reseau_poles.network.registry_client import RegistryRefusal, unreachable

    from .settings import load_settings

    overrides = {"registry_url": registry} if registry else {}
    settings = load_settings(config, **overrides)
    keys = _keys(settings)
    out.print(
        f"Inscription de [bold]{keys.subscriber_id}[/] (clé {keys.key_id}, BG, "
        f"{settings.public_url}) auprès de {settings.registry_url}…"
    )
    try:
        status = register(settings, keys)
    except RegistryRefusal as exc:
        raise _fail(f"inscription refusée — {exc}") from None
    except httpx.HTTPError as exc:
        raise _fail(unreachable(settings.registry_url, exc)) from None
    out.print(f"[green]Accepté[/] : statut [bold]{status}[/]")
    if status == "UNDER_SUBSCRIPTION":
        out.print("En attente de l'approbation de l'opérateur du réseau.")


add_rotate_key_command(
    app,
    kind="BG",
    the="la passerelle",
    load_settings=imported_when_called("reseau_poles.gateway.settings", "load_settings"),
    command_name="gateway",
    doc="Changer la clé de la passerelle : la nouvelle clé est inscrite, signée par l'actuelle "
    "(la passerelle doit tourner pour répondre au défi) ; les deux restent valides pendant le "
    "chevauchement, puis l'ancienne expire.",
    config_option=ConfigOption,
)


@app.command()
def show(config: ConfigOption = None) -> None:
    """Afficher l'identité et la configuration effective (sans les clés privées)."""
    from .settings import load_settings

    settings = load_settings(config)
    keys = _keys(settings)
    out.print_json(
        data={
            "subscriber_id": keys.subscriber_id,
            "key_id": keys.key_id,
            "signing_public_key": keys.signing.public_key_b64,
            "encr_public_key": keys.encryption.public_key_b64,
            "settings": settings.model_dump(mode="json"),
        }
    )
