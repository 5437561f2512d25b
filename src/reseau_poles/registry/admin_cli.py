"""``reseau-poles registry admin …``: the operator's commands, each request signed with the
operator's key. Tables are drawn on a terminal and printed as tab-separated lines, whole, when
the output is piped or redirected."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    from reseau_poles.network.registry_client import AdminClient
    from reseau_poles.protocol.keys import SubscriberKeys

admin_app = typer.Typer(
    help="Administration par l'opérateur (requêtes signées avec la clé de l'opérateur).",
    no_args_is_help=True,
)

out = Console()
err = Console(stderr=True)


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]Erreur :[/] {message}")
    return typer.Exit(code)


def _keys(folder: Path) -> SubscriberKeys:
    """The operator's keys, as ``reseau-poles keygen`` wrote them; a bad folder ends the
    command with its reason."""
    from reseau_poles.keystore import KeyFiles
    from reseau_poles.protocol.errors import KeyFormatError

    try:
        return KeyFiles(folder).read()
    except KeyFormatError as exc:
        raise _fail(str(exc)) from None


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
    from reseau_poles.network.registry_client import AdminClient, signer_for

    keys = _keys(ctx.obj["keys"])
    return AdminClient(ctx.obj["registry"], signer_for(keys))


def _call(ctx: typer.Context, what: Any) -> Any:
    import httpx

    from reseau_poles.network.registry_client import RegistryRefusal, unreachable

    try:
        with _client(ctx) as client:
            return what(client)
    except RegistryRefusal as exc:
        raise _fail(str(exc)) from None
    except httpx.HTTPError as exc:
        raise _fail(unreachable(ctx.obj["registry"], exc)) from None


def _print_json(data: Any) -> None:
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if out.is_terminal:
        out.print_json(text)
    else:  # piped: the JSON as is, never wrapped
        out.file.write(text + "\n")


def _print_table(
    title: str | None, columns: tuple[str, ...], rows: Sequence[tuple[str, ...]]
) -> None:
    """A table: drawn by rich on a terminal; piped or redirected, plain tab-separated lines
    (a header, then one line per row) with every value whole, for ``cut``, ``grep`` or a
    spreadsheet."""
    if not out.is_terminal:
        lines = [f"# {title}"] if title else []
        lines += [
            "\t".join(value.replace("\t", " ").replace("\n", " ") for value in row)
            for row in (columns, *rows)
        ]
        out.file.write("\n".join(lines) + "\n")  # as is: rich would turn tabs into spaces
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(_status(v) if v in _COLOURS else escape(v) for v in row))
    out.print(table)


_COLOURS = {
    "SUBSCRIBED": "green",
    "UNDER_SUBSCRIPTION": "yellow",
    "SUSPENDED": "red",
    "REVOKED": "red",
    "ACTIVE": "green",
}


def _status(status: str) -> str:
    return f"[{_COLOURS.get(status, 'white')}]{status}[/]"


def _given(value: str, what: str, hint: str) -> str:
    """``value`` stripped, or a clear refusal when it is empty (``""`` from a shell variable)."""
    if not value.strip():
        raise _fail(f"{what} manquant : {hint}", code=2)
    return value.strip()


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
    """Lister les participants (hors terminal : lignes séparées par des tabulations)."""
    data = _call(
        ctx,
        lambda c: c.subscribers(
            status=status, type=type, domain=domain, region=region, q=search, limit=limit
        ),
    )
    if as_json:
        _print_json(data)
        return
    rows = [
        (
            s["subscriber_id"],
            s["type"],
            s["status"],
            ", ".join(s["domains"]),
            ", ".join(s["regions"]),
            s["url"],
            ", ".join(k["key_id"] for k in s["keys"] if k["valid_now"]) or "—",
        )
        for s in data["subscribers"]
    ]
    _print_table(
        f"Participants ({data['total']})",
        ("Identifiant", "Rôle", "Statut", "Domaines", "Régions", "URL", "Clés valides"),
        rows,
    )


@admin_app.command("show")
def admin_show(
    ctx: typer.Context,
    subscriber_id: str,
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON.")] = False,
) -> None:
    """Afficher un participant et toutes ses clés."""
    subscriber_id = _given(subscriber_id, "identifiant du participant", "voir « admin list »")
    s = _call(ctx, lambda c: c.subscriber(subscriber_id))
    if as_json:
        _print_json(s)
        return
    out.print(f"[bold]{s['subscriber_id']}[/] — {s['type']} — {_status(s['status'])}")
    out.print(
        f"URL : {s['url']}\nDomaines : {', '.join(s['domains'])}\n"
        f"Régions : {', '.join(s['regions'])}\nPays : {s['country']}",
        markup=False,
        soft_wrap=True,
    )
    _print_table(
        "Clés",
        ("key_id", "Statut", "Valide du", "au", "Valide maintenant"),
        [
            (
                k["key_id"],
                k["status"],
                k["valid_from"],
                k["valid_until"],
                "oui" if k["valid_now"] else "non",
            )
            for k in s["keys"]
        ],
    )


def _change(ctx: typer.Context, action: str, subscriber_id: str, reason: str | None) -> None:
    subscriber_id = _given(subscriber_id, "identifiant du participant", "voir « admin list »")
    after = _call(ctx, lambda c: c.change(action, subscriber_id, reason))
    out.print(f"{subscriber_id} : {_status(after['status'])}")
    if after.get("grace_until"):
        out.print(
            f"Suspendu le {after['suspended_at']} : plus rien de nouveau ; ses commandes en "
            f"cours se terminent jusqu'au {after['grace_until']} (période de grâce)."
        )
    if action in ("suspend", "reactivate"):
        out.print("Les nœuds le voient en quelques secondes (lecture de la révision du registre).")


ReasonOption = Annotated[str | None, typer.Option(help="Motif, gardé au journal d'audit.")]


@admin_app.command("approve")
def admin_approve(ctx: typer.Context, subscriber_id: str, reason: ReasonOption = None) -> None:
    """Approuver un participant en attente (politique « approval »)."""
    _change(ctx, "approve", subscriber_id, reason)


@admin_app.command("reject")
def admin_reject(ctx: typer.Context, subscriber_id: str, reason: ReasonOption = None) -> None:
    """Refuser une demande jamais approuvée : elle est supprimée (le journal la garde) et
    l'identifiant redevient libre."""
    subscriber_id = _given(subscriber_id, "identifiant du participant", "voir « admin list »")
    _call(ctx, lambda c: c.reject(subscriber_id, reason))
    out.print(f"{subscriber_id} : demande refusée et supprimée")


@admin_app.command("suspend")
def admin_suspend(
    ctx: typer.Context,
    subscriber_id: str,
    reason: Annotated[
        str | None, typer.Option(help="Motif (obligatoire), gardé au journal d'audit.")
    ] = None,
) -> None:
    """Suspendre un participant (il disparaît des recherches) ; le motif est obligatoire."""
    if not (reason or "").strip():
        raise _fail(
            "un motif est obligatoire pour suspendre : --reason « factures impayées »", code=2
        )
    _change(ctx, "suspend", subscriber_id, reason)


@admin_app.command("reactivate")
def admin_reactivate(ctx: typer.Context, subscriber_id: str, reason: ReasonOption = None) -> None:
    """Réactiver un participant suspendu."""
    _change(ctx, "reactivate", subscriber_id, reason)


@admin_app.command("revoke-key")
def admin_revoke_key(
    ctx: typer.Context, subscriber_id: str, key_id: str, reason: ReasonOption = None
) -> None:
    """Révoquer une clé d'un participant (définitif). S'il n'en a plus d'autre, il ne peut
    revenir que par « admin add-key » (ou « reset-key »)."""
    subscriber_id = _given(subscriber_id, "identifiant du participant", "voir « admin list »")
    key_id = _given(
        key_id,
        "key_id",
        f"donnez l'identifiant de la clé à révoquer (voir « admin show {subscriber_id} »)",
    )
    _call(ctx, lambda c: c.revoke_key(subscriber_id, key_id, reason))
    out.print(f"Clé {key_id} de {subscriber_id} : {_status('REVOKED')}")


def _public_record(path: Path, subscriber_id: str) -> dict[str, Any]:
    """A participant's ``keys.json`` (or the key folder holding it)."""
    file = path / "keys.json" if path.is_dir() else path
    try:
        record = json.loads(file.read_text("utf-8"))
    except FileNotFoundError:
        raise _fail(f"fichier introuvable : {file}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise _fail(f"{file} n'est pas du JSON valide : {exc}") from None
    if not isinstance(record, dict):
        raise _fail(f"{file} : un objet JSON est attendu (keys.json d'un participant)")
    missing = [k for k in ("key_id", "signing_public_key", "encr_public_key") if not record.get(k)]
    if missing:
        raise _fail(f"{file} : champ(s) manquant(s) : {', '.join(missing)}")
    owner = str(record.get("subscriber_id") or subscriber_id).lower()
    if owner != subscriber_id.lower():
        raise _fail(f"{file} contient la clé de {owner}, pas de {subscriber_id}")
    return record


def _add_key(
    ctx: typer.Context,
    subscriber_id: str,
    keys_json: Path,
    valid_days: int | None,
    reason: str | None,
    *,
    reset: bool,
) -> None:
    subscriber_id = _given(subscriber_id, "identifiant du participant", "voir « admin list »")
    record = _public_record(keys_json, subscriber_id)
    after = _call(
        ctx,
        lambda c: c.add_key(
            subscriber_id, record, reset=reset, valid_days=valid_days, reason=reason
        ),
    )
    key = next(k for k in after["keys"] if k["key_id"] == record["key_id"])
    out.print(
        f"Clé {key['key_id']} de {subscriber_id} : {_status('ACTIVE')}, valide jusqu'au "
        f"{key['valid_until']}"
    )
    revoked = [k["key_id"] for k in after["keys"] if k["status"] == "REVOKED"]
    if reset and revoked:
        out.print(f"Révoquée(s) : {', '.join(revoked)}", markup=False)
    out.print(
        "Le participant relance maintenant son inscription (… subscribe) avec cette clé.",
        markup=False,
    )


KeysJsonOption = Annotated[
    Path,
    typer.Option(
        "--keys-json",
        help="keys.json du participant (ou son dossier de clés) : key_id et clés publiques.",
    ),
]
ValidDaysOption = Annotated[
    int | None, typer.Option("--valid-days", min=1, max=3650, help="Validité en jours (365).")
]


@admin_app.command("add-key")
def admin_add_key(
    ctx: typer.Context,
    subscriber_id: str,
    keys_json: KeysJsonOption,
    valid_days: ValidDaysOption = None,
    reason: ReasonOption = None,
) -> None:
    """Enregistrer une nouvelle clé d'un participant sur la parole de l'opérateur (clé perdue,
    révoquée ou expirée : la seule façon de revenir) ; ses autres clés restent."""
    _add_key(ctx, subscriber_id, keys_json, valid_days, reason, reset=False)


@admin_app.command("reset-key")
def admin_reset_key(
    ctx: typer.Context,
    subscriber_id: str,
    keys_json: KeysJsonOption,
    valid_days: ValidDaysOption = None,
    reason: ReasonOption = None,
) -> None:
    """Remplacer toutes les clés d'un participant par une seule (clé compromise) : les autres
    sont révoquées dans la même opération."""
    _add_key(ctx, subscriber_id, keys_json, valid_days, reason, reset=True)


@admin_app.command("register")
def admin_register(
    ctx: typer.Context,
    subscriber_id: str,
    keys_json: KeysJsonOption,
    url: Annotated[str, typer.Option("--url", help="URL du participant (ses points Beckn).")],
    type: Annotated[str, typer.Option("--type", help="BAP, BPP ou BG.")],
    domain: Annotated[
        list[str], typer.Option("--domain", help="Domaine (répétable), ex. PLA:ALIMENTS.")
    ],
    region: Annotated[
        list[str], typer.Option("--region", help="Région (répétable), QC-01 … QC-17 ou *.")
    ],
    reason: Annotated[
        str | None, typer.Option(help="Motif (obligatoire), gardé au journal d'audit.")
    ] = None,
    country: Annotated[str, typer.Option(help="Pays (ISO 3166-1 alpha-3).")] = "CAN",
    valid_days: ValidDaysOption = None,
) -> None:
    """Inscrire, sans défi, un participant qui ne sait pas y répondre (pile tierce) : ses clés
    publiques (keys.json) sur la parole de l'opérateur ; statut SUBSCRIBED, audité."""
    subscriber_id = _given(subscriber_id, "identifiant du participant", "ex. pile.example")
    if not (reason or "").strip():
        raise _fail(
            "un motif est obligatoire pour une inscription sans défi : "
            "--reason « pile X, clés remises le … »",
            code=2,
        )
    record = _public_record(keys_json, subscriber_id)
    after = _call(
        ctx,
        lambda c: c.register(
            subscriber_id.lower(),
            record,
            url=url,
            type=type,
            domains=domain,
            regions=region,
            country=country,
            valid_days=valid_days,
            reason=reason,
        ),
    )
    key = after["keys"][0]
    out.print(
        f"{after['subscriber_id']} : {_status(after['status'])} sans défi, clé {key['key_id']} "
        f"valide jusqu'au {key['valid_until']} (journal : operator_register)"
    )


@admin_app.command("expiring-keys")
def admin_expiring_keys(
    ctx: typer.Context,
    within_days: Annotated[
        int, typer.Option("--within-days", min=0, max=3650, help="Horizon, en jours.")
    ] = 30,
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON.")] = False,
) -> None:
    """Lister les clés actives qui expirent dans les N jours (ou déjà expirées)."""
    keys = _call(ctx, lambda c: c.expiring_keys(within_days))
    if as_json:
        _print_json(keys)
        return
    _print_table(
        f"Clés qui expirent d'ici {within_days} j ({len(keys)})",
        ("Participant", "Statut", "key_id", "Expire (UTC)", "Jours restants"),
        [
            (
                k["subscriber_id"],
                k["status"],
                k["key_id"],
                k["valid_until"],
                "expirée" if k["expired"] else f"{k['days_left']:g}",
            )
            for k in keys
        ],
    )


@admin_app.command("audit")
def admin_audit(
    ctx: typer.Context,
    subscriber_id: Annotated[
        str | None, typer.Option("--subscriber", help="Un participant.")
    ] = None,
    action: Annotated[str | None, typer.Option(help="subscribe, update, add_key, approve…")] = None,
    since: Annotated[
        str | None, typer.Option(help="Depuis (inclus), ex. 2026-05-01 ou 2026-05-01T08:00-04:00.")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Jusqu'à (exclu), même forme.")] = None,
    limit: Annotated[int, typer.Option(help="Nombre d'entrées.")] = 50,
    as_json: Annotated[
        bool, typer.Option("--json", help="Sortie JSON (avec avant/après).")
    ] = False,
) -> None:
    """Lire le journal d'audit (qui, quoi, quand, avant/après)."""
    entries = _call(
        ctx,
        lambda c: c.audit(
            subscriber_id=subscriber_id, action=action, limit=limit, since=since, until=until
        ),
    )
    if as_json:
        _print_json(entries)
        return
    _print_table(
        "Journal d'audit",
        ("#", "Quand (UTC)", "Qui", "Action", "Participant", "Changement", "Motif"),
        [
            (
                str(e["id"]),
                e["at"],
                e["actor"],
                e["action"],
                e["subscriber_id"] or "",
                _difference(e["before"], e["after"]),
                e["reason"] or "",
            )
            for e in entries
        ],
    )


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
        rows = [(name, str(count)) for name, count in sorted(stats[key].items())]
        _print_table(title, ("Valeur", "Nombre"), rows)


@admin_app.command("operator-entry")
def admin_operator_entry(ctx: typer.Context) -> None:
    """Afficher le bloc « operators » à ajouter à la configuration du registre pour ces clés."""
    keys = _keys(ctx.obj["keys"])
    out.print(
        "[[operators]]\n"
        f'operator_id = "{keys.subscriber_id}"\n'
        f'key_id = "{keys.key_id}"\n'
        f'signing_public_key = "{keys.signing.public_key_b64}"',
        markup=False,
        highlight=False,
    )
