"""``reseau-poles seller …``: run the seller node, keep its database, and manage its pôles.

serve, migrate                       the node itself (reseau_poles.participant.cli)
provider create [--file F] [opts]    create or update a pôle (TOML/JSON file or options)
provider show ID                     its profile, locations, options, counts
key create|list|revoke --provider    the pôle's API keys (a new key is shown once)
accounts create|list|deactivate      the staff's accounts on /gestion (reseau_poles.portal.cli)
import --provider ID FILE            a CSV of products: all rows or nothing, report by row
export --provider ID [FILE]          the active products as CSV (re-importable as is)
pick-list --provider ID --date D     the pick list of a delivery day (table, csv, html, json)
"""

from __future__ import annotations

import json
import sys
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from reseau_poles.participant.cli import (
    ConfigOption,
    DatabaseOption,
    add_node_commands,
    imported_when_called,
)
from reseau_poles.portal.cli import add_accounts_commands
from reseau_poles.portal.roles import SELLER_ROLES

if TYPE_CHECKING:
    from pydantic import BaseModel
    from sqlalchemy.orm import Session

_Model = TypeVar("_Model", bound="BaseModel")

load_settings = imported_when_called("reseau_poles.seller.settings", "load_settings")

app = typer.Typer(help="Nœud vendeur (BPP) d'un ou de plusieurs pôles.", no_args_is_help=True)
provider_app = typer.Typer(help="Pôles hébergés par ce nœud.", no_args_is_help=True)
key_app = typer.Typer(help="Clés d'API d'un pôle (API de gestion).", no_args_is_help=True)
app.add_typer(provider_app, name="provider")
app.add_typer(key_app, name="key")

out = Console()
err = Console(stderr=True)

add_node_commands(
    app,
    label="nœud vendeur",
    load_settings=load_settings,
    app_module="reseau_poles.seller.app",
)
add_accounts_commands(
    app,
    load_settings=load_settings,
    app_module="reseau_poles.seller.app",
    portal_module="reseau_poles.seller.web.portal",
    organisation_of="du pôle",
    unknown_organisation="pôle « {id} » inconnu ou inactif",
    roles=SELLER_ROLES,
)

ProviderOption = Annotated[str, typer.Option("--provider", "-p", help="Identifiant du pôle.")]


@contextmanager
def _database(config: Path | None, database_url: str | None) -> Iterator[Any]:
    """A session factory on the node's database (migrated first when ``auto_migrate``)."""
    from reseau_poles.storage import make_engine, make_session_factory

    from .app import migrate

    settings = load_settings(config)
    engine = make_engine(database_url or settings.database_url)
    try:
        if settings.auto_migrate:
            migrate(engine)
        yield make_session_factory(engine)
    finally:
        engine.dispose()


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]Erreur :[/] {message}")
    return typer.Exit(1)


def _require_provider(session: Session, provider_id: str) -> None:
    from .repositories import providers as provider_repo

    if not provider_repo.provider_exists(session, provider_id):
        raise _fail(f"pôle « {provider_id} » inconnu (reseau-poles seller provider create --help).")


def _errors_table(title: str, rows: list[tuple[str, str, str]], first: str) -> Table:
    table = Table(title=title, title_justify="left", header_style="bold")
    table.add_column(first, justify="right")
    table.add_column("Colonne / champ")
    table.add_column("Message")
    for row in rows:
        table.add_row(*row)
    return table


def _validated_list(
    label: str, model: type[_Model], entries: object, errors: list[tuple[str, str, str]]
) -> list[_Model]:
    """The entries of a profile's list (``label``: « lieu », « mode ») as ``model``; what
    is refused goes to ``errors``, numbered from 1."""
    from pydantic import ValidationError

    if not isinstance(entries, list):
        errors.append((label, label, "liste attendue"))
        return []
    found: list[_Model] = []
    for number, entry in enumerate(entries, start=1):
        try:
            found.append(model.model_validate(entry))
        except ValidationError as exc:
            errors.extend(_validation_rows(exc, f"{label} {number}"))
    return found


def _validation_rows(exc: Any, prefix: str = "") -> list[tuple[str, str, str]]:
    from reseau_poles.protocol.jsonpath import json_path
    from reseau_poles.protocol.validation_text import french_message

    rows = []
    for error in exc.errors():
        path = json_path(error.get("loc", ()))
        rows.append((prefix or "—", path, french_message(error)))
    return rows


# --- provider -------------------------------------------------------------------------------


def _read_profile(file: Path) -> dict[str, Any]:
    try:
        text = file.read_text(encoding="utf-8-sig")
        data = json.loads(text) if file.suffix.lower() == ".json" else tomllib.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise _fail(f"fichier {file} illisible : {exc}") from None
    if not isinstance(data, dict):
        raise _fail(f"fichier {file} : un objet (table) est attendu.")
    return data


@provider_app.command("create")
def provider_create(
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            "-f",
            # Rich markup would take [locations] for a style: the inner bracket is escaped.
            help="Profil en TOML ou JSON (avec [\\[locations]] et "
            "[\\[fulfillment_options]] facultatifs).",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    provider_id: Annotated[str | None, typer.Option("--id", help="Identifiant du pôle.")] = None,
    name: Annotated[str | None, typer.Option(help="Nom du pôle.")] = None,
    legal_form: Annotated[
        str | None, typer.Option("--legal-form", help="obnl ou cooperative.")
    ] = None,
    region: Annotated[str | None, typer.Option(help="Région du pôle (QC-01 … QC-17).")] = None,
    served: Annotated[
        list[str] | None, typer.Option("--served-region", help="Région desservie (répétable).")
    ] = None,
    email: Annotated[str | None, typer.Option(help="Courriel des commandes.")] = None,
    phone: Annotated[str | None, typer.Option(help="Téléphone.")] = None,
    contact: Annotated[str | None, typer.Option("--contact", help="Personne-ressource.")] = None,
    opening_hours: Annotated[
        str | None, typer.Option("--opening-hours", help="Heures d'ouverture.")
    ] = None,
    payment: Annotated[
        list[str] | None,
        typer.Option("--payment", help="Modalité de paiement (répétable), ex. POST-FULFILLMENT."),
    ] = None,
    net_days: Annotated[int | None, typer.Option("--net-days", help="Délai net (jours).")] = None,
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Créer un pôle (ou mettre à jour son profil) à partir d'un fichier ou d'options."""
    from pydantic import ValidationError

    from .repositories import Conflict
    from .repositories import places as place_repo
    from .repositories import providers as provider_repo
    from .requests import FulfillmentOptionIn, LocationIn, ProviderIn

    data = _read_profile(file) if file else {}
    options = {
        "id": provider_id,
        "name": name,
        "legal_form": legal_form,
        "region": region,
        "served_regions": served,
        "email": email,
        "phone": phone,
        "contact_name": contact,
        "opening_hours": opening_hours,
        "payment_types": payment,
        "net_days": net_days,
    }
    data.update({key: value for key, value in options.items() if value is not None})
    places = data.pop("locations", [])
    ways = data.pop("fulfillment_options", [])
    errors: list[tuple[str, str, str]] = []
    try:
        profile = ProviderIn.model_validate(data)
    except ValidationError as exc:
        errors.extend(_validation_rows(exc, "pôle"))
    locations = _validated_list("lieu", LocationIn, places, errors)
    fulfillment = _validated_list("mode", FulfillmentOptionIn, ways, errors)
    if errors:
        err.print(_errors_table("Profil refusé : rien n'a été écrit", errors, "Où"))
        raise typer.Exit(1)
    from reseau_poles.storage import write_session

    with _database(config, database_url) as factory:
        try:
            with write_session(factory) as session:
                created = provider_repo.save_provider(session, profile)
                for place in locations:
                    place_repo.put_location(session, profile.id, place)
                for option in fulfillment:
                    place_repo.put_fulfillment_option(session, profile.id, option)
        except Conflict as exc:
            raise _fail(f"{exc.message} ({exc.path}) ; rien n'a été écrit.") from None
    verb = "créé" if created else "mis à jour"
    out.print(
        f"Pôle [bold]{profile.id}[/] {verb} ({len(locations)} lieu(x), "
        f"{len(fulfillment)} mode(s) d'exécution). Clé d'API : "
        f"reseau-poles seller key create --provider {profile.id}"
    )


@provider_app.command("show")
def provider_show(
    provider_id: Annotated[str, typer.Argument(help="Identifiant du pôle.")],
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON.")] = False,
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Afficher le profil d'un pôle, ses lieux, ses modes d'exécution et ses comptes."""
    from reseau_poles.storage import read_session

    from .repositories import api_keys as key_repo
    from .repositories import places as place_repo
    from .repositories import products as product_repo
    from .repositories import providers as provider_repo

    with _database(config, database_url) as factory, read_session(factory) as session:
        row = provider_repo.provider(session, provider_id)
        if row is None:
            raise _fail(f"pôle « {provider_id} » inconnu.")
        profile = provider_repo.provider_in_from_row(row).model_dump(mode="json")
        places = [dict(p) for p in place_repo.list_locations(session, provider_id)]
        ways = place_repo.list_fulfillment_options(session, provider_id)
        _, products = product_repo.list_items(
            session, provider_id, product_repo.ItemFilter(), offset=0, limit=1
        )
        keys = [k for k in key_repo.list_api_keys(session, provider_id) if k["revoked_at"] is None]
    if as_json:
        document = {
            **profile,
            "active": row["active"],
            "locations": places,
            "fulfillment_options": [w["id"] for w in ways],
            "products": products,
            "api_keys": len(keys),
        }
        sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table(title=f"Pôle {provider_id}", title_justify="left", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    for key, value in profile.items():
        shown = ", ".join(value) if isinstance(value, list) else value
        table.add_row(key, "" if shown is None else str(shown))
    table.add_row("lieux", ", ".join(p["id"] for p in places) or "—")
    table.add_row("modes d'exécution", ", ".join(w["id"] for w in ways) or "—")
    table.add_row("produits actifs", str(products))
    table.add_row("clés d'API actives", str(len(keys)))
    out.print(table)


# --- keys -----------------------------------------------------------------------------------


@key_app.command("create")
def key_create(
    provider: ProviderOption,
    label: Annotated[str | None, typer.Option(help="À quoi sert la clé.")] = None,
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Créer une clé d'API ; elle n'est affichée qu'une fois."""
    from reseau_poles.storage import write_session

    from .repositories import api_keys as key_repo

    with _database(config, database_url) as factory, write_session(factory) as session:
        _require_provider(session, provider)
        key = key_repo.create_api_key(session, provider, label)
    err.print(
        f"Clé créée pour [bold]{provider}[/] (préfixe {key[:12]}). Elle ne sera plus affichée : "
        "conservez-la maintenant."
    )
    sys.stdout.write(key + "\n")


@key_app.command("list")
def key_list(
    provider: ProviderOption, config: ConfigOption = None, database_url: DatabaseOption = None
) -> None:
    """Lister les clés d'un pôle (préfixes et libellés, jamais les clés)."""
    from reseau_poles.storage import read_session

    from .repositories import api_keys as key_repo

    with _database(config, database_url) as factory, read_session(factory) as session:
        _require_provider(session, provider)
        rows = key_repo.list_api_keys(session, provider)
    table = Table(title=f"Clés d'API de {provider}", title_justify="left")
    for column in ("Préfixe", "Libellé", "Créée", "Révoquée"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["prefix"],
            row["label"] or "",
            f"{row['created_at']:%Y-%m-%d %H:%M}",
            f"{row['revoked_at']:%Y-%m-%d %H:%M}" if row["revoked_at"] else "",
        )
    out.print(table)


@key_app.command("revoke")
def key_revoke(
    provider: ProviderOption,
    prefix: Annotated[str, typer.Argument(help="Préfixe de la clé (12 caractères).")],
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Révoquer une clé (effet immédiat)."""
    from reseau_poles.storage import write_session

    from .repositories import api_keys as key_repo

    with _database(config, database_url) as factory, write_session(factory) as session:
        _require_provider(session, provider)
        done = key_repo.revoke_api_key(session, provider, prefix)
    if not done:
        raise _fail(f"aucune clé active de préfixe « {prefix} » pour {provider}.")
    out.print(f"Clé {prefix}… révoquée.")


# --- import / export ------------------------------------------------------------------------


@app.command("import")
def import_products(
    provider: ProviderOption,
    file: Annotated[Path, typer.Argument(help="Fichier CSV des produits.", dir_okay=False)],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Valider seulement, sans rien écrire.")
    ] = False,
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Importer un CSV de produits : tout ou rien, mise à jour par SKU (format :
    seller_node/README.md)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from .services.csv_import import import_csv
    from .services.csv_io import MAX_CSV_BYTES

    try:
        size = file.stat().st_size
        if size > MAX_CSV_BYTES:
            raise _fail(f"fichier trop volumineux ({size} octets ; au plus {MAX_CSV_BYTES}).")
        data = file.open("rb")  # read a line at a time by the import
    except OSError as exc:
        raise _fail(f"fichier {file} illisible : {exc.strerror}") from None
    stages = {"validation": "Validation", "ecriture": "Écriture"}
    with (
        data,
        _database(config, database_url) as factory,
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=err,
            transient=False,
        ) as bar,
    ):
        tasks: dict[str, Any] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stages.get(stage, stage), total=total or None)
            bar.update(tasks[stage], completed=done, total=total or None)

        report = import_csv(factory, provider, data, dry_run=dry_run, progress=progress)
    if report.errors:
        rows = [(str(e.row), e.column or "—", e.message) for e in report.errors]
        err.print(
            _errors_table(
                f"{report.error_count} erreur(s) dans {file.name} : rien n'a été importé"
                + (
                    f" ({len(rows)} premières ci-dessous)" if report.error_count > len(rows) else ""
                ),
                rows,
                "Ligne",
            )
        )
        raise typer.Exit(1)
    if dry_run:
        out.print(
            f"Fichier valide : {report.rows} produit(s) ({report.created} nouveau(x), "
            f"{report.updated} mis à jour) — rien n'a été écrit (--dry-run)."
        )
        return
    out.print(
        f"Import terminé pour [bold]{provider}[/] : {report.created} produit(s) créé(s), "
        f"{report.updated} mis à jour."
    )


@app.command("export")
def export_products(
    provider: ProviderOption,
    file: Annotated[
        Path | None, typer.Argument(help="Fichier CSV à écrire (sinon : sortie standard).")
    ] = None,
    separator: Annotated[
        str,
        typer.Option(
            "--separateur", help="« , » ou « ; » (avec « ; », virgule décimale, pour Excel)."
        ),
    ] = ",",
    bom: Annotated[bool, typer.Option("--bom", help="Marque d'ordre UTF-8 (Excel).")] = False,
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Exporter les produits actifs d'un pôle en CSV (réimportable tel quel)."""
    from reseau_poles.storage import read_session

    from .repositories import products as product_repo
    from .services.csv_export import export_csv

    if separator not in {",", ";"}:
        raise _fail("séparateur « , » ou « ; » attendu.")
    with _database(config, database_url) as factory, read_session(factory) as session:
        _require_provider(session, provider)
        text = export_csv(session, provider, delimiter=separator, bom=bom)
        count = len(product_repo.all_items(session, provider))
    if file is None:
        sys.stdout.write(text)
        return
    file.write_text(text, encoding="utf-8", newline="")
    out.print(f"{count} produit(s) exporté(s) dans {file}.")


@app.command("pick-list")
def pick_list_command(
    provider: ProviderOption,
    day: Annotated[
        str, typer.Option("--date", "-d", help="Jour de livraison, AAAA-MM-JJ (heure du Québec).")
    ],
    file: Annotated[
        Path | None, typer.Argument(help="Fichier à écrire (sinon : sortie standard).")
    ] = None,
    kind: Annotated[
        str, typer.Option("--format", "-f", help="table (écran), csv, html ou json.")
    ] = "table",
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Liste de préparation d'un jour de livraison : commandes non annulées dont la plage
    commence ce jour-là (acheteur, site, plage, bon de commande, lignes) et totaux par
    produit."""
    from datetime import date

    from reseau_poles.storage import read_session, utcnow

    from .repositories import providers as provider_repo
    from .services.pick_list import pick_list, pick_list_csv, pick_list_html

    if kind not in {"table", "csv", "html", "json"}:
        raise _fail("format « table », « csv », « html » ou « json » attendu.")
    try:
        wanted = date.fromisoformat(day) if len(day) == 10 else None
    except ValueError:
        wanted = None
    if wanted is None:
        raise _fail(f"date « {day[:20]} » illisible : AAAA-MM-JJ attendu (2026-12-01).")
    with _database(config, database_url) as factory, read_session(factory) as session:
        _require_provider(session, provider)
        found = provider_repo.get_provider(session, provider)
        if found is None:  # withdrawn from the network: no pick list (the API answers 404)
            raise _fail(f"pôle « {provider} » inactif : pas de liste de préparation.")
        data = pick_list(session, found, wanted)
    if kind == "table":
        _print_pick_list(data)
        return
    if kind == "csv":
        body = pick_list_csv(data)
    elif kind == "html":
        body = pick_list_html(data, generated=utcnow()).encode("utf-8")
    else:
        body = (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    if file is None:
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
        return
    file.write_bytes(body)
    out.print(f"{len(data['orders'])} commande(s) du {data['date']} écrite(s) dans {file}.")


def _print_pick_list(data: dict[str, Any]) -> None:
    from .services.pick_list import window_text

    out.print(
        f"Préparation du {data['date']} — {data['provider']['name']} : "
        f"{len(data['orders'])} commande(s)",
        markup=False,
        highlight=False,
    )
    for order in data["orders"]:
        delivery = order["delivery"]
        heading = " · ".join(
            part
            for part in (
                window_text(delivery["window"]),
                order["id"],
                f"BC {order['purchase_order_number']}" if order["purchase_order_number"] else None,
                order["buyer"]["name"],
                delivery["site"] or delivery["address"],
            )
            if part
        )
        # Text, not markup: the buyer wrote these names.
        table = Table(title=Text(heading), title_justify="left", header_style="bold")
        table.add_column("SKU")
        table.add_column("Produit")
        table.add_column("Qté", justify="right")
        table.add_column("Format")
        for line in order["lines"]:
            table.add_row(
                Text(line["sku"]), Text(line["name"]), str(line["quantity"]), line["format"]
            )
        out.print(table)
    if not data["totals"]:
        out.print("Aucune commande à livrer ce jour-là.")
        return
    totals = Table(title="Totaux par produit", title_justify="left", header_style="bold")
    for column in ("SKU", "Produit"):
        totals.add_column(column)
    totals.add_column("Qté", justify="right")
    totals.add_column("Format")
    totals.add_column("Commandes", justify="right")
    for total in data["totals"]:
        totals.add_row(
            Text(total["sku"]),
            Text(total["name"]),
            str(total["quantity"]),
            total["format"],
            str(total["orders"]),
        )
    out.print(totals)
