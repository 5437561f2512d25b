"""The participants' commands, written once.

``serve``, ``migrate``, ``purge``, ``subscribe`` and ``rotate-key``, the same for every node:
each role adds them to its Typer app (:func:`add_node_commands`). The gateway takes
``rotate-key`` from here too (:func:`add_rotate_key_command`), and every role serves its
application through :func:`serve_role` with the options declared here (``--host``, ``--port``,
``--migrate``, ``--workers``)."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    from .settings import NodeSettings

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Fichier TOML de configuration.", exists=True),
]
DatabaseOption = Annotated[str | None, typer.Option(help="URL de la base (sinon : configuration).")]
HostOption = Annotated[str | None, typer.Option(help="Adresse d'écoute.")]
PortOption = Annotated[int | None, typer.Option(help="Port d'écoute.")]
MigrateOption = Annotated[
    bool | None, typer.Option("--migrate/--no-migrate", help="Migrer la base au démarrage.")
]
WorkersOption = Annotated[int, typer.Option(help="Processus uvicorn.")]
RegistryOption = Annotated[
    str | None, typer.Option("--registry", help="URL du registre (sinon : registry_url).")
]
OverlapOption = Annotated[
    float | None,
    typer.Option(
        "--overlap-hours",
        min=0,
        help="Heures pendant lesquelles l'ancienne clé reste valide "
        "(sinon : key_rotation_overlap_hours, 48).",
    ),
]
OfflineOption = Annotated[
    bool,
    typer.Option(
        "--offline",
        help="Clé perdue, révoquée ou expirée : créer la nouvelle clé sans l'inscrire ; "
        "l'opérateur l'enregistre (registry admin add-key).",
    ),
]
CONFIG_FILE_ENV = "RESEAU_POLES_CONFIG_FILE"  # reseau_poles.config.CONFIG_FILE_ENV

out = Console()
err = Console(stderr=True)

# The Beckn type a role subscribes as, by its application module.
BECKN_TYPES = {"reseau_poles.seller.app": "BPP", "reseau_poles.buyer.app": "BAP"}
EXIT_REFUSED = 1
EXIT_WAIT_TIMEOUT = 3


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]Erreur :[/] {message}")
    return typer.Exit(code)


def imported_when_called(module: str, name: str) -> Callable[..., Any]:
    """``module.name``, imported at its first call: a role's commands name their settings
    loader without loading pydantic for ``--help``."""

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    return call


def given(**values: Any) -> dict[str, Any]:
    """The options given on the command line (``None``: not given), as settings overrides."""
    return {name: value for name, value in values.items() if value is not None}


def serve_role(
    settings: Any,
    *,
    factory: str,
    build: Callable[[Any], Any] | None = None,
    workers: int = 1,
    config: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    **uvicorn: Any,
) -> None:
    """Serve a role's application (:func:`reseau_poles.network.serving.serve`, with the role's
    serving limits) at ``settings.host``:``settings.port``.

    One process builds the application here: ``build(settings)``, by default ``factory``'s
    function (``"module:create_app"``) called with ``settings``. With ``workers`` > 1 each
    worker process calls ``factory`` itself and reads its settings as this process did: the
    configuration file and the command line's ``overrides`` are passed on through the
    environment (``RESEAU_POLES_CONFIG_FILE``, ``RESEAU_POLES_<NAME>``)."""
    from reseau_poles.network.serving import serve as serve_http

    app: Any = None
    if workers > 1:
        if config is not None:
            os.environ[CONFIG_FILE_ENV] = str(config)
        for name, value in (overrides or {}).items():
            os.environ[f"RESEAU_POLES_{name.upper()}"] = str(value)
    else:
        if build is None:
            module, _, name = factory.partition(":")
            build = getattr(importlib.import_module(module), name)
        app = build(settings)
    serve_http(
        app,
        host=settings.host,
        port=settings.port,
        workers=workers,
        factory=factory,
        limits=settings,
        **uvicorn,
    )


def load_checked(load_settings: Callable[..., Any], config: Path | None, **values: Any) -> Any:
    """The settings, the network layer's with them (a node's): a bad value is named, not a
    traceback."""
    from pydantic import ValidationError

    from reseau_poles.protocol.jsonpath import json_path

    try:
        settings = load_settings(config, **values)
        if hasattr(settings, "network_settings"):
            settings.network_settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{json_path(error['loc'], root='?')} : {error['msg']}" for error in exc.errors()
        )
        raise _fail(f"configuration invalide — {problems}") from None
    except (FileNotFoundError, ValueError) as exc:
        raise _fail(f"configuration illisible — {exc}") from None
    return settings


def add_node_commands(
    app: typer.Typer,
    *,
    label: str,
    load_settings: Callable[..., NodeSettings],
    app_module: str,
    beckn_type: str | None = None,
) -> None:
    """Add ``serve``, ``migrate``, ``purge`` and ``subscribe`` to ``app``. ``label`` names the node in
    messages (« nœud vendeur »); ``app_module`` holds the role's ``create_app`` and ``migrate``,
    imported only when a command runs so that ``--help`` stays fast; ``beckn_type`` (BPP, BAP)
    is what ``subscribe`` declares, by default the one of ``app_module``'s role."""
    kind = beckn_type or BECKN_TYPES.get(app_module)
    command_name = app.info.name or {"BPP": "seller", "BAP": "buyer"}.get(kind or "", "…")

    def role(name: str) -> Any:
        return getattr(importlib.import_module(app_module), name)

    @app.command()
    def serve(
        config: ConfigOption = None,
        host: HostOption = None,
        port: PortOption = None,
        auto_migrate: MigrateOption = None,
    ) -> None:
        from reseau_poles.config import redact_url

        overrides = given(host=host, port=port, auto_migrate=auto_migrate)
        settings = load_checked(load_settings, config, **overrides)
        out.print(
            f"{label.capitalize()} [bold]{settings.subscriber_id}[/] sur "
            f"http://{settings.host}:{settings.port} (adresse publique {settings.public_url}, "
            f"base {redact_url(settings.database_url)})"
        )
        serve_role(settings, factory=f"{app_module}:create_app")

    serve.__doc__ = f"Lancer le {label} (HTTP)."

    @app.command("migrate")
    def run_migrate(config: ConfigOption = None, database_url: DatabaseOption = None) -> None:
        from reseau_poles.config import redact_url

        url = database_url or load_settings(config).database_url
        revision = role("migrate")(url)
        out.print(f"Base du {label} à jour : révision [bold]{revision}[/] ({redact_url(url)})")

    run_migrate.__doc__ = f"Créer ou mettre à jour les tables du {label}."

    @app.command("purge")
    def run_purge(
        config: ConfigOption = None,
        database_url: DatabaseOption = None,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="Compter ce qui partirait, sans rien supprimer.")
        ] = False,
        delivered_days: Annotated[
            int | None,
            typer.Option(
                "--delivered-days",
                min=0,
                help="Jours de conservation des envois livrés et du journal "
                "(sinon : retention_delivered_days ; 0 : toujours).",
            ),
        ] = None,
        dead_days: Annotated[
            int | None,
            typer.Option(
                "--dead-days",
                min=0,
                help="Jours de conservation des envois abandonnés "
                "(sinon : retention_dead_days ; 0 : toujours).",
            ),
        ] = None,
    ) -> None:
        import sqlalchemy.exc
        from rich.markup import escape
        from sqlalchemy import inspect

        from reseau_poles.config import redact_url
        from reseau_poles.network.retention import PurgeCounts, Retention, purge
        from reseau_poles.network.tables import migrate as migrate_network
        from reseau_poles.network.tables import outbox_table
        from reseau_poles.storage import make_engine

        settings = load_checked(load_settings, config)
        # The role's own old rows (the buyer's searches), when its module names some.
        role_targets = getattr(importlib.import_module(app_module), "retention_targets", None)
        retention = Retention.from_settings(
            settings.network_settings(),
            delivered_days=delivered_days,
            dead_days=dead_days,
            targets=tuple(role_targets(settings)) if role_targets else (),
        )
        url = database_url or settings.database_url

        def kept(days: int) -> str:
            return f"{days} j" if days else "indéfiniment"

        out.print(
            f"Rétention du {label} ({redact_url(url)}) : envois livrés et journal des messages "
            f"gardés {kept(retention.delivered_days)}, envois abandonnés "
            f"{kept(retention.dead_days)}."
            + "".join(
                f" {target.label} : gardées {kept(target.days)}." for target in retention.targets
            )
        )
        if not retention.active:
            out.print("Rien à purger : tout est gardé indéfiniment.")
            return
        engine = make_engine(url)
        try:
            if not dry_run:
                migrate_network(engine)  # as at start-up: the purge's indexes (0002)
            if dry_run and not inspect(engine).has_table(outbox_table.name):
                counts = PurgeCounts()  # the node never ran on this base
            else:
                counts = purge(engine, retention, dry_run=dry_run)
        except sqlalchemy.exc.SQLAlchemyError as exc:
            cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise _fail(f"base inaccessible — {escape(cause)}") from None
        finally:
            engine.dispose()

        verb = "à supprimer" if dry_run else "supprimée(s)"
        if dry_run:
            out.print("Simulation (--dry-run) : rien n'est supprimé.")
        lines = [
            (
                "Envois livrés (rappels, webhooks)",
                counts.outbox_delivered,
                retention.delivered_days,
            ),
            (
                "Envois abandonnés (failed, expired)",
                counts.outbox_dead,
                retention.dead_days,
            ),
            (
                "Journal des messages",
                counts.transcript,
                retention.delivered_days,
            ),
        ]
        for name, number, days in lines:
            out.print(
                f"  {name} : "
                + (f"{number} ligne(s) {verb}" if days else "tout gardé (conservation indéfinie)")
            )
        for target in retention.targets:
            rows = counts.tables.get(target.table.name, 0)
            others = ", ".join(
                f"{counts.tables.get(table.name, 0)} de {table.name}"
                for table, _ in target.dependents
            )
            out.print(
                f"  {target.label} : {rows} ligne(s) {verb}"
                + (f" (avec {others})" if others and not dry_run else "")
            )
        out.print(f"Total : {counts.total} ligne(s) {verb}.")

    run_purge.__doc__ = (
        f"Supprimer les vieilles lignes de la boîte d'envoi et du journal des messages du "
        f"{label}, et ses propres données périmées s'il en déclare (les recherches du nœud "
        f"acheteur) ; les commandes et autres données métier ne sont jamais touchées."
    )

    if kind is None:
        return

    @app.command("subscribe")
    def run_subscribe(
        config: ConfigOption = None,
        registry: RegistryOption = None,
        wait: Annotated[
            bool,
            typer.Option(
                "--wait/--no-wait",
                help="Attendre l'approbation de l'opérateur (politique approval).",
            ),
        ] = False,
        wait_timeout: Annotated[
            float, typer.Option("--wait-timeout", help="Attente maximale, en secondes.", min=0)
        ] = 3600.0,
        interval: Annotated[
            float,
            typer.Option("--interval", help="Secondes entre deux vérifications.", min=0.05),
        ] = 5.0,
    ) -> None:
        from .subscription import (
            SUBSCRIBED,
            UNDER_SUBSCRIPTION,
            node_health,
            subscribe_node,
            wait_until_subscribed,
        )

        settings = load_checked(load_settings, config, **given(registry_url=registry))
        serve_command = f"reseau-poles {command_name} serve" + (
            f" --config {config}" if config else ""
        )
        out.print(
            f"Inscription du {label} [bold]{settings.subscriber_id}[/] ({kind}, "
            f"{settings.public_url}, domaine {settings.domain}, régions "
            f"{', '.join(settings.regions)}) auprès de {settings.registry_url or '?'}…"
        )
        if settings.registry_url:
            problem = node_health(settings)
            if problem is not None:
                err.print(
                    f"[yellow]Attention :[/] {problem}. Le nœud doit tourner pour répondre au "
                    f"défi du registre ({serve_command})."
                )
        outcome = subscribe_node(settings, kind, serve_command=serve_command)
        if not outcome.ok:
            err.print(f"[red]Refusé :[/] {outcome.message}")
            if outcome.advice:
                err.print(f"Que faire : {outcome.advice}")
            raise typer.Exit(EXIT_REFUSED)
        colour = "green" if outcome.status == SUBSCRIBED else "yellow"
        out.print(f"[{colour}]{outcome.status}[/] — {outcome.message}")
        if outcome.status != UNDER_SUBSCRIPTION:
            return
        if not wait:
            out.print(
                "L'opérateur l'approuve avec « reseau-poles registry admin approve "
                f"{settings.subscriber_id} » ; relancez avec --wait pour attendre."
            )
            return
        out.print(f"Attente de l'approbation (au plus {wait_timeout:g} s)…")
        if not wait_until_subscribed(
            settings, outcome.key_id, timeout=wait_timeout, interval=interval
        ):
            err.print(
                f"[yellow]Toujours en attente[/] après {wait_timeout:g} s : l'opérateur n'a pas "
                "encore approuvé l'inscription (ou l'a suspendue). Relancez plus tard."
            )
            raise typer.Exit(EXIT_WAIT_TIMEOUT)
        out.print(
            f"[green]{SUBSCRIBED}[/] — approuvé : {settings.subscriber_id} est sur le réseau."
        )

    run_subscribe.__doc__ = (
        f"Inscrire ce {label} au registre ({kind}) depuis sa configuration ; le nœud doit "
        "tourner pour répondre au défi."
    )

    add_rotate_key_command(
        app,
        kind=kind,
        the=f"le {label}",
        load_settings=load_settings,
        command_name=command_name,
        doc=f"Changer la clé du {label} : la nouvelle clé est inscrite, signée par l'actuelle "
        "(le nœud doit tourner pour répondre au défi) ; les deux restent valides pendant le "
        "chevauchement, puis l'ancienne expire.",
    )


def add_rotate_key_command(
    app: typer.Typer,
    *,
    kind: str,
    the: str,
    load_settings: Callable[..., Any],
    command_name: str,
    doc: str,
    config_option: Any = ConfigOption,
) -> None:
    """``rotate-key`` for a participant of type ``kind`` (BPP, BAP, BG), named ``the`` in
    messages (« le nœud vendeur », « la passerelle »); ``config_option``: the role's
    ``--config`` declaration."""

    @app.command("rotate-key")
    def run_rotate_key(
        config: ConfigOption = None,
        registry: RegistryOption = None,
        overlap_hours: OverlapOption = None,
        offline: OfflineOption = False,
    ) -> None:
        settings = load_checked(load_settings, config, **given(registry_url=registry))
        hours = settings.key_rotation_overlap_hours if overlap_hours is None else overlap_hours
        rotate_key_command(
            settings,
            kind,
            the=the,
            overlap_hours=hours,
            offline=offline,
            serve_command=f"reseau-poles {command_name} serve"
            + (f" --config {config}" if config else ""),
        )

    run_rotate_key.__annotations__["config"] = config_option
    run_rotate_key.__doc__ = doc


def rotate_key_command(
    settings: Any,
    kind: str,
    *,
    the: str,
    overlap_hours: float,
    offline: bool,
    serve_command: str,
) -> None:
    """``rotate-key`` for a node or the gateway: what it does, said in French."""
    from datetime import timedelta

    import httpx

    from reseau_poles.network.registry_client import RegistryRefusal, unreachable
    from reseau_poles.network.rotation import (
        PENDING_DIR,
        Participant,
        RotationError,
        rotate_key,
        rotate_offline,
    )
    from reseau_poles.protocol.errors import KeyFormatError

    key_dir = Path(settings.key_dir)
    if offline:
        try:
            new = rotate_offline(key_dir, settings.subscriber_id)
        except (KeyFormatError, RotationError, OSError) as exc:
            raise _fail(str(exc)) from None
        out.print(
            f"Nouvelle clé [bold]{new.key_id}[/] créée dans {key_dir} (l'ancienne est gardée "
            "dans anciennes-cles/) ; elle n'est pas encore inscrite."
        )
        out.print(
            f"1. Redémarrez {the} ({serve_command}) : la nouvelle clé servira alors à signer.\n"
            f"2. Envoyez {key_dir / 'keys.json'} (clés publiques seulement) à l'opérateur du "
            "réseau, qui l'enregistre : reseau-poles registry admin add-key "
            f"{settings.subscriber_id} --keys-json keys.json\n"
            f"3. Puis relancez l'inscription : reseau-poles … subscribe.",
            markup=False,
            soft_wrap=True,
        )
        return
    if not settings.registry_url:
        raise _fail("registry_url n'est pas configuré : le nœud ne sait pas où est le registre.")
    domains = list(getattr(settings, "domains", None) or [settings.domain])
    participant = Participant(
        registry_url=settings.registry_url,
        subscriber_id=settings.subscriber_id,
        url=settings.public_url.rstrip("/"),
        type=kind,
        domains=domains,
        regions=list(settings.regions),
        country=settings.country,
    )
    out.print(
        f"Changement de clé de [bold]{settings.subscriber_id}[/] ({the}) auprès de "
        f"{settings.registry_url} (chevauchement {overlap_hours:g} h)…"
    )
    try:
        done = rotate_key(participant, key_dir, overlap=timedelta(hours=overlap_hours))
    except RegistryRefusal as exc:
        err.print(f"[red]Refusé :[/] {exc}")
        err.print(
            "Que faire : rien n'a changé dans le dossier des clés (la nouvelle clé attend dans "
            f"{key_dir / PENDING_DIR}, reprise au prochain essai). {the.capitalize()} doit tourner "
            f"({serve_command}) pour répondre au défi. Si la clé actuelle est révoquée ou "
            "expirée, utilisez --offline puis demandez à l'opérateur « registry admin add-key ».",
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_REFUSED) from None
    except httpx.HTTPError as exc:
        raise _fail(unreachable(settings.registry_url, exc)) from None
    except (KeyFormatError, RotationError, OSError) as exc:
        raise _fail(str(exc)) from None
    out.print(
        f"[green]Nouvelle clé[/] {done.new_key_id} inscrite ({done.status}), valide jusqu'au "
        f"{done.new_valid_until:%Y-%m-%d} ; l'ancienne clé {done.old_key_id} reste valide "
        f"jusqu'au {done.old_valid_until:%Y-%m-%d %H:%M} UTC, puis expire."
    )
    out.print(
        f"Redémarrez {the} ({serve_command}) avant cette heure : la nouvelle clé servira alors "
        "à signer.",
        markup=False,
        soft_wrap=True,
    )
