"""``reseau-poles registry …``: run the registry, migrate its database, join it as a
participant, and administer it as the operator (requests signed with the operator's key)."""

from __future__ import annotations

import json
import threading
import time
import tomllib
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlsplit

import typer
from rich.console import Console

if TYPE_CHECKING:
    from reseau_poles.protocol.keys import SubscriberKeys

    from .client import AdminClient

# `reseau-poles registry --help` must stay fast: HTTP clients, FastAPI, SQLAlchemy, the keys and
# the settings are imported by the commands that use them, when they run.

app = typer.Typer(
    help="Registre du réseau : service, migrations, inscription, administration.",
    no_args_is_help=True,
)
admin_app = typer.Typer(
    help="Administration par l'opérateur (requêtes signées avec la clé de l'opérateur).",
    no_args_is_help=True,
)
app.add_typer(admin_app, name="admin")

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
    from reseau_poles.protocol.errors import KeyFormatError
    from reseau_poles.protocol.keys import KeyFiles

    files = KeyFiles(folder)
    try:
        if subscriber_id:
            return files.load_or_generate(subscriber_id)
        return files.read()
    except KeyFormatError as exc:
        raise _fail(str(exc)) from None


class ChallengeListener:
    """A short-lived HTTP server answering the registry's challenge at ``…/on_subscribe``."""

    def __init__(self, keys: SubscriberKeys, url: str, listen: str | None) -> None:
        import uvicorn
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import JSONResponse

        from reseau_poles.protocol.keys import open_challenge

        parts = urlsplit(url)
        host, _, port = (listen or "").rpartition(":")
        self.host = host or "0.0.0.0"
        self.port = int(port) if port else parts.port or (443 if parts.scheme == "https" else 80)
        self.answered = threading.Event()
        listener = Starlette()

        async def on_subscribe(request: Request) -> JSONResponse:
            challenge = (await request.json())["challenge"]
            self.answered.set()
            return JSONResponse({"answer": open_challenge(keys.encryption, challenge)})

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

    from .client import RegistryRefusal, build_record, post_signed, raise_for_nack, signer_for

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
    out.print(
        f"Inscription de [bold]{keys.subscriber_id}[/] (clé {keys.key_id}) auprès de {registry}…"
    )
    try:
        with httpx.Client(timeout=30) as http:
            if listener:
                with ChallengeListener(keys, section["url"], listen or section.get("listen")):
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
        raise _fail(f"registre injoignable ({type(exc).__name__}) : {registry}") from None
    status = ack.get("subscriber", {}).get("status", "?")
    out.print(f"[green]Accepté[/] : statut [bold]{status}[/]")
    if status == "UNDER_SUBSCRIPTION":
        out.print("En attente de l'approbation de l'opérateur du réseau.")


# --- operator -----------------------------------------------------------------------------------


@admin_app.callback()
def admin_options(
    ctx: typer.Context,
    registry: Annotated[
        str, typer.Option("--registry", help="URL du registre.", envvar="RESEAU_POLES_REGISTRY_URL")
    ] = "http://127.0.0.1:8000",
    keys: Annotated[
        Path,
        typer.Option(
            "--keys", help="Dossier des clés de l'opérateur.", envvar="RESEAU_POLES_OPERATOR_KEYS"
        ),
    ] = Path("./cles-operateur"),
) -> None:
    ctx.obj = {"registry": registry, "keys": keys}


def _client(ctx: typer.Context) -> AdminClient:
    from .client import AdminClient, signer_for

    keys = _keys(ctx.obj["keys"], None)
    return AdminClient(ctx.obj["registry"], signer_for(keys))


def _call(ctx: typer.Context, what: Any) -> Any:
    import httpx

    from .client import RegistryRefusal

    try:
        with _client(ctx) as client:
            return what(client)
    except RegistryRefusal as exc:
        raise _fail(str(exc)) from None
    except httpx.HTTPError as exc:
        raise _fail(
            f"registre injoignable ({type(exc).__name__}) : {ctx.obj['registry']}"
        ) from None


def _table(**options: Any) -> Any:
    from rich.table import Table

    return Table(**options)


def _status(status: str) -> str:
    colour = {
        "SUBSCRIBED": "green",
        "UNDER_SUBSCRIPTION": "yellow",
        "SUSPENDED": "red",
        "REVOKED": "red",
        "ACTIVE": "green",
    }.get(status, "white")
    return f"[{colour}]{status}[/]"


@admin_app.command("list")
def admin_list(
    ctx: typer.Context,
    status: Annotated[
        str | None, typer.Option(help="SUBSCRIBED, UNDER_SUBSCRIPTION, SUSPENDED…")
    ] = None,
    type: Annotated[str | None, typer.Option("--type", help="BAP, BPP ou BG.")] = None,
    domain: Annotated[str | None, typer.Option(help="Domaine, ex. PLA:ALIMENTS.")] = None,
    region: Annotated[str | None, typer.Option(help="Région, ex. QC-03.")] = None,
    search: Annotated[str | None, typer.Option("--q", help="Partie de l'identifiant.")] = None,
    limit: Annotated[int, typer.Option(help="Nombre maximal de lignes.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON.")] = False,
) -> None:
    """Lister les participants."""
    data = _call(
        ctx,
        lambda c: c.subscribers(
            status=status, type=type, domain=domain, region=region, q=search, limit=limit
        ),
    )
    if as_json:
        out.print_json(json.dumps(data, ensure_ascii=False))
        return
    table = _table(title=f"Participants ({data['total']})")
    for column in ("Identifiant", "Rôle", "Statut", "Domaines", "Régions", "URL", "Clés valides"):
        table.add_column(column)
    for s in data["subscribers"]:
        valid = [k["key_id"] for k in s["keys"] if k["valid_now"]]
        table.add_row(
            s["subscriber_id"],
            s["type"],
            _status(s["status"]),
            ", ".join(s["domains"]),
            ", ".join(s["regions"]),
            s["url"],
            ", ".join(valid) or "—",
        )
    out.print(table)


@admin_app.command("show")
def admin_show(ctx: typer.Context, subscriber_id: str) -> None:
    """Afficher un participant et toutes ses clés."""
    s = _call(ctx, lambda c: c.subscriber(subscriber_id))
    out.print(f"[bold]{s['subscriber_id']}[/] — {s['type']} — {_status(s['status'])}")
    out.print(
        f"URL : {s['url']}\nDomaines : {', '.join(s['domains'])}\n"
        f"Régions : {', '.join(s['regions'])}\nPays : {s['country']}"
    )
    table = _table(title="Clés")
    for column in ("key_id", "Statut", "Valide du", "au", "Valide maintenant"):
        table.add_column(column)
    for k in s["keys"]:
        table.add_row(
            k["key_id"],
            _status(k["status"]),
            k["valid_from"],
            k["valid_until"],
            "oui" if k["valid_now"] else "non",
        )
    out.print(table)


def _change(ctx: typer.Context, action: str, subscriber_id: str, reason: str | None) -> None:
    after = _call(ctx, lambda c: c.change(action, subscriber_id, reason))
    out.print(f"{subscriber_id} : {_status(after['status'])}")


ReasonOption = Annotated[str | None, typer.Option(help="Motif, gardé au journal d'audit.")]


@admin_app.command("approve")
def admin_approve(ctx: typer.Context, subscriber_id: str, reason: ReasonOption = None) -> None:
    """Approuver un participant en attente (politique « approval »)."""
    _change(ctx, "approve", subscriber_id, reason)


@admin_app.command("suspend")
def admin_suspend(ctx: typer.Context, subscriber_id: str, reason: ReasonOption = None) -> None:
    """Suspendre un participant (il disparaît des recherches)."""
    _change(ctx, "suspend", subscriber_id, reason)


@admin_app.command("reactivate")
def admin_reactivate(ctx: typer.Context, subscriber_id: str, reason: ReasonOption = None) -> None:
    """Réactiver un participant suspendu."""
    _change(ctx, "reactivate", subscriber_id, reason)


@admin_app.command("revoke-key")
def admin_revoke_key(
    ctx: typer.Context, subscriber_id: str, key_id: str, reason: ReasonOption = None
) -> None:
    """Révoquer une clé d'un participant (définitif)."""
    _call(ctx, lambda c: c.revoke_key(subscriber_id, key_id, reason))
    out.print(f"Clé {key_id} de {subscriber_id} : {_status('REVOKED')}")


@admin_app.command("audit")
def admin_audit(
    ctx: typer.Context,
    subscriber_id: Annotated[
        str | None, typer.Option("--subscriber", help="Un participant.")
    ] = None,
    action: Annotated[str | None, typer.Option(help="subscribe, update, add_key, approve…")] = None,
    limit: Annotated[int, typer.Option(help="Nombre d'entrées.")] = 50,
    as_json: Annotated[
        bool, typer.Option("--json", help="Sortie JSON (avec avant/après).")
    ] = False,
) -> None:
    """Lire le journal d'audit (qui, quoi, quand, avant/après)."""
    entries = _call(ctx, lambda c: c.audit(subscriber_id=subscriber_id, action=action, limit=limit))
    if as_json:
        out.print_json(json.dumps(entries, ensure_ascii=False))
        return
    table = _table(title="Journal d'audit")
    for column in ("#", "Quand (UTC)", "Qui", "Action", "Participant", "Changement", "Motif"):
        table.add_column(column)
    for e in entries:
        table.add_row(
            str(e["id"]),
            e["at"],
            e["actor"],
            e["action"],
            e["subscriber_id"] or "",
            _difference(e["before"], e["after"]),
            e["reason"] or "",
        )
    out.print(table)


def _difference(before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    if before is None:
        return "création" if after else ""
    changes = []
    for name in ("status", "url", "type", "domains", "regions", "country"):
        if before.get(name) != (after or {}).get(name):
            changes.append(f"{name} : {before.get(name)} → {(after or {}).get(name)}")
    old_keys = {k["key_id"]: k for k in before.get("keys", [])}
    for key in (after or {}).get("keys", []):
        old = old_keys.get(key["key_id"])
        if old is None:
            changes.append(f"nouvelle clé {key['key_id']}")
        elif old != key:
            changes.append(
                f"clé {key['key_id']} : {old['status']} → {key['status']}"
                if old["status"] != key["status"]
                else f"clé {key['key_id']} modifiée"
            )
    return "; ".join(changes) or "—"


@admin_app.command("stats")
def admin_stats(ctx: typer.Context) -> None:
    """Statistiques du réseau : participants par statut, rôle, domaine, région."""
    stats = _call(ctx, lambda c: c.stats())
    for key, title in (
        ("by_status", "Par statut"),
        ("by_type", "Inscrits par rôle"),
        ("by_domain", "Inscrits par domaine"),
        ("by_region", "Inscrits par région"),
        ("keys", "Clés par statut"),
    ):
        table = _table(title=title)
        table.add_column("Valeur")
        table.add_column("Nombre", justify="right")
        for name, count in sorted(stats[key].items()):
            table.add_row(name, str(count))
        out.print(table)


@admin_app.command("operator-entry")
def admin_operator_entry(ctx: typer.Context) -> None:
    """Afficher le bloc « operators » à ajouter à la configuration du registre pour ces clés."""
    keys = _keys(ctx.obj["keys"], None)
    out.print(
        "[[operators]]\n"
        f'operator_id = "{keys.subscriber_id}"\n'
        f'key_id = "{keys.key_id}"\n'
        f'signing_public_key = "{keys.signing.public_key_b64}"',
        markup=False,
        highlight=False,
    )
