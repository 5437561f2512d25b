"""``reseau-poles``: the command line of the network.

Protocol tools (keys, sign, verify, schemas) live here; each role adds its own commands
(``reseau-poles registry …``) from its package's ``cli`` module.
"""

from __future__ import annotations

import difflib
import importlib
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from typer.core import TyperGroup

from .cli_typer import convert_on_first_value, import_rich_utils

if TYPE_CHECKING:
    import click

# `--help` must stay fast: nothing here imports FastAPI, SQLAlchemy or the roles' packages.
# Each command imports what it needs when it runs; each role's commands are loaded only when
# the role is named on the command line (tests/test_cli_speed.py keeps us honest); Typer itself
# is made to leave aside what a help page does not use (cli_typer.py).
rich_utils = import_rich_utils()
convert_on_first_value()
# httpx imports its own command line (httpx._main: click, Pygments, rich.syntax; a third of its
# import) when it can; the commands that talk to a service never use it, and httpx does
# without it when it cannot be imported.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

# The help's own words in French (Typer reads these when it formats a help page or an error;
# the help of every sub-command, roles included, goes through them).
for _name, _text in {
    "DEFAULT_STRING": "[défaut : {}]",
    "ENVVAR_STRING": "[variable d'environnement : {}]",
    "REQUIRED_LONG_STRING": "[obligatoire]",
    "DEPRECATED_STRING": "(obsolète) ",
    "COMMANDS_PANEL_TITLE": "Commandes",
    "ERRORS_PANEL_TITLE": "Erreur",
    "ABORTED_TEXT": "Interrompu.",
    "RICH_HELP": "Aide : [blue]{command_path} {help_option}[/]",
}.items():
    if hasattr(rich_utils, _name):
        setattr(rich_utils, _name, _text)

# Each role contributes `reseau_poles.<role>.cli:app`, loaded when the role is named.
_ROLES = {
    "registry": "Registre : qui est sur le réseau, avec ses clés ; administration par l'opérateur.",
    "gateway": "Passerelle : diffuse les recherches signées aux nœuds vendeurs.",
    "seller": "Nœud vendeur : catalogue, stocks et commandes d'un ou de plusieurs pôles.",
    "buyer": "Nœud acheteur : recherche, commandes et suivi pour les applications et institutions.",
}
_ROLES_PANEL = "Rôles du réseau"
# What a French speaker may type instead of a command's name.
_FRENCH_NAMES = {
    "registre": "registry",
    "passerelle": "gateway",
    "vendeur": "seller",
    "acheteur": "buyer",
    "cles": "keys",
    "clés": "keys",
    "signer": "sign",
    "verifier": "verify",
    "vérifier": "verify",
}


class _LazyRoles(TyperGroup):
    """The top-level group: a role's commands are imported only when that role is used.

    Listing the commands (``reseau-poles --help``) shows a stand-in for each role, made
    from ``_ROLES``; naming a role imports its ``cli`` module and hands over its group."""

    _listing = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *(r for r in _ROLES if r not in self.commands)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands or cmd_name not in _ROLES:
            return super().get_command(ctx, cmd_name)
        if self._listing:
            stand_in = TyperGroup(name=cmd_name, help=_ROLES[cmd_name])
            stand_in.rich_help_panel = _ROLES_PANEL  # type: ignore[attr-defined]
            return stand_in
        try:
            module = importlib.import_module(f"reseau_poles.{cmd_name}.cli")
        except ModuleNotFoundError as exc:
            if exc.name not in (f"reseau_poles.{cmd_name}", f"reseau_poles.{cmd_name}.cli"):
                raise
            return None
        command = typer.main.get_group(module.app)
        command.name = cmd_name
        command.help = _ROLES[cmd_name]
        command.rich_help_panel = _ROLES_PANEL  # type: ignore[attr-defined]
        self.add_command(command, cmd_name)
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            close = [_FRENCH_NAMES[name]] if name in _FRENCH_NAMES else []
            close = close or difflib.get_close_matches(name, self.list_commands(ctx), n=1)
            hint = f" Vouliez-vous dire « {close[0]} » ?" if close else ""
            ctx.fail(f"Commande inconnue : « {name} ».{hint}")
        return super().resolve_command(ctx, args)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


app = typer.Typer(
    name="reseau-poles",
    cls=_LazyRoles,
    help=(
        "Réseau Pôles — réseau ouvert (Beckn 1.1) des pôles logistiques agroalimentaires "
        "du Québec.\n\n"
        "Chaque rôle a ses commandes (reseau-poles registry --help …) ; les outils du protocole "
        "(clés, signatures, schémas, OpenAPI) servent à tous."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
)
keys_app = typer.Typer(
    help="Clés de signature (Ed25519) et de chiffrement (X25519).", no_args_is_help=True
)
schemas_app = typer.Typer(
    help="Schémas JSON des messages, générés à partir des modèles.", no_args_is_help=True
)
openapi_app = typer.Typer(
    help="Documents OpenAPI de chaque rôle (registre, passerelle, nœuds vendeur et acheteur).",
    no_args_is_help=True,
)
app.add_typer(keys_app, name="keys")
app.add_typer(schemas_app, name="schemas")
app.add_typer(openapi_app, name="openapi")

out = Console()
err = Console(stderr=True)

# Defaults shown by `sign --help` and `verify --help`, written here so that the help does not
# load the cryptography; tests/test_cli_speed.py checks they are those of protocol.signing.
DEFAULT_TTL_SECONDS = 30
DEFAULT_SKEW_SECONDS = 5.0


def _read_body(body_file: Path | None) -> bytes:
    if body_file is not None:
        return body_file.read_bytes()
    if sys.stdin.isatty():
        err.print("[yellow]Lecture du corps sur l'entrée standard (Ctrl-D pour finir)…[/]")
    return sys.stdin.buffer.read()


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]Erreur :[/] {message}")
    return typer.Exit(code)


@keys_app.command("generate")
def keys_generate(
    out_dir: Annotated[Path, typer.Option("--out", help="Dossier où écrire les clés.")],
    subscriber_id: Annotated[
        str, typer.Option(help="Identifiant d'abonné (ex. marche-quebec.example).")
    ],
    key_id: Annotated[
        str | None, typer.Option(help="Identifiant de clé (uuid par défaut).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Remplacer des clés existantes.")] = False,
) -> None:
    """Crée une paire de clés de signature et une de chiffrement, et affiche les clés publiques."""
    from .keystore import KeyFiles
    from .protocol.keys import SubscriberKeys

    keys = SubscriberKeys.generate(subscriber_id, key_id)
    try:
        KeyFiles(out_dir).write(keys, overwrite=force)
    except FileExistsError as exc:
        raise _fail(f"{exc}. Ajoutez --force pour les remplacer.") from None
    record = keys.public_record()
    out.print(f"Clés écrites dans [bold]{out_dir}[/] (fichiers privés en mode 0600).")
    for name in ("subscriber_id", "key_id", "signing_public_key", "encr_public_key"):
        out.print(f"{name}={record[name]}", highlight=False, soft_wrap=True)


@keys_app.command("export")
def keys_export(
    keys_dir: Annotated[Path, typer.Option("--keys", help="Dossier de clés (keys generate).")],
    out_file: Annotated[
        Path, typer.Option("--out", help="Fichier JSON à écrire (mode 0600) pour la pile.")
    ],
    force: Annotated[bool, typer.Option(help="Remplacer un fichier existant.")] = False,
) -> None:
    """Écrit les clés d'un dossier dans les formes que lisent les piles tierces (outils
    libsodium et ONDC) : clé privée Ed25519 de 64 octets (graine + publique), clés X25519 en
    DER (PKCS#8 et SPKI) et brutes, en base64. Le fichier contient des clés privées."""
    import json

    from .files import open_private
    from .keystore import KeyFiles
    from .protocol.errors import KeyFormatError

    try:
        keys = KeyFiles(keys_dir).read()
    except KeyFormatError as exc:
        raise _fail(str(exc)) from None
    if out_file.exists() and not force:
        raise _fail(f"{out_file} existe déjà. Ajoutez --force pour le remplacer.")
    export = {
        "subscriber_id": keys.subscriber_id,
        "key_id": keys.key_id,
        "unique_key_id": keys.key_id,
        "signing_private_key": keys.signing.private_key_b64,
        "signing_public_key": keys.signing.public_key_b64,
        "encryption_private_key": keys.encryption.private_key_der_b64,
        "encryption_public_key": keys.encryption.public_key_der_b64,
        "encryption_private_key_raw": keys.encryption.private_key_b64,
        "encryption_public_key_raw": keys.encryption.public_key_b64,
    }
    with open_private(out_file, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(export, indent=2) + "\n")
    out.print(
        f"Clés de [bold]{keys.subscriber_id}[/] ({keys.key_id}) écrites dans {out_file} "
        "(mode 0600) : à remettre à la pile par un canal sûr, puis à effacer."
    )


@app.command("sign")
def sign(
    subscriber_id: Annotated[str, typer.Option(help="Identifiant d'abonné du signataire.")],
    key_id: Annotated[str, typer.Option(help="Identifiant de la clé dans le registre.")],
    private_key: Annotated[
        Path,
        typer.Option(
            help="Fichier de clé privée Ed25519 en base64 (graine de 32 octets ou clé de 64)."
        ),
    ],
    created: Annotated[
        int | None, typer.Option(help="Horodatage Unix de création (maintenant par défaut).")
    ] = None,
    expires: Annotated[
        int | None, typer.Option(help="Horodatage Unix d'expiration (created + ttl par défaut).")
    ] = None,
    ttl: Annotated[int, typer.Option(help="Durée de validité en secondes.")] = DEFAULT_TTL_SECONDS,
    body_file: Annotated[
        Path | None,
        typer.Option("--body", help="Lire le corps dans ce fichier plutôt que sur stdin."),
    ] = None,
) -> None:
    """Signe un corps (lu tel quel, octet pour octet) et affiche la valeur de l'en-tête Authorization."""
    from .keystore import read_private_key_file
    from .protocol import signing
    from .protocol.errors import KeyFormatError

    try:
        key = read_private_key_file(private_key)
        signer = signing.Signer(subscriber_id, key_id, key, default_ttl=ttl)
    except (KeyFormatError, ValueError) as exc:
        raise _fail(str(exc)) from None
    body = _read_body(body_file)
    out.print(signer.sign(body, created=created, expires=expires), highlight=False, soft_wrap=True)


@app.command("verify")
def verify(
    public_key: Annotated[str, typer.Option(help="Clé publique Ed25519 en base64, ou @fichier.")],
    header: Annotated[
        str, typer.Option(help="Valeur de l'en-tête (« Authorization: » facultatif).")
    ],
    now: Annotated[
        float | None,
        typer.Option(help="Heure de vérification, horodatage Unix (maintenant par défaut)."),
    ] = None,
    skew: Annotated[
        float, typer.Option(help="Tolérance d'horloge en secondes.")
    ] = DEFAULT_SKEW_SECONDS,
    body_file: Annotated[
        Path | None,
        typer.Option("--body", help="Lire le corps dans ce fichier plutôt que sur stdin."),
    ] = None,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain",
            help="Tout montrer : champs de l'en-tête, chaîne signée, condensé du corps, clé, "
            "verdict (inspecteur de signature).",
        ),
    ] = False,
) -> None:
    """Vérifie une signature BECKN-006 sur un corps lu tel quel ; dit précisément ce qui cloche.

    Code de sortie 0 et « valid » si la signature est bonne ; 1 et la raison sinon
    (digest_mismatch, signature_mismatch, expired, created_in_future, algorithm_mismatch,
    malformed …). Un en-tête entouré d'une paire de guillemets (forme de l'utilitaire Python
    d'ONDC) est accepté, et la commande le signale.
    """
    from .protocol import signing

    if public_key.startswith("@"):
        try:
            public_key = Path(public_key[1:]).read_text("ascii").strip()
        except OSError as exc:
            raise _fail(f"clé publique illisible : {exc}") from None
    header_name = signing.AUTHORIZATION
    name, sep, value = header.partition(":")
    known = {
        known.lower(): known
        for known in (
            signing.AUTHORIZATION,
            signing.GATEWAY_AUTHORIZATION,
            signing.PROXY_AUTHORIZATION,
        )
    }
    if sep and name.strip().lower() in known:
        header_name, header = known[name.strip().lower()], value.strip()
    body = _read_body(body_file)
    result = signing.diagnose(body, header, public_key, now=now, skew=skew, header_name=header_name)
    if explain:
        for line in signing.explain(result):
            out.print(line, highlight=False, markup=False, soft_wrap=True)
        if not result.valid:
            raise typer.Exit(1)
        return
    if result.unquoted:
        err.print(
            "Note : guillemets englobants retirés (forme de l'utilitaire Python d'ONDC) / "
            "outer quotes removed",
            highlight=False,
        )
    if result.valid:
        out.print("valid")
        return
    out.print(f"invalid: {result.reason}", highlight=False)
    err.print(result.message, highlight=False)
    for hint in result.hints:
        err.print(f"  • {hint}", highlight=False)
    raise typer.Exit(1)


@schemas_app.command("export")
def schemas_export(
    out_dir: Annotated[Path, typer.Option("--out", help="Dossier de sortie.")] = Path("schemas"),
) -> None:
    """Écrit le schéma JSON de chaque message (un fichier par action) dans le dossier."""
    from .schema_export import write_schemas

    written = write_schemas(out_dir)
    out.print(f"{len(written)} schémas écrits dans {out_dir}")


@schemas_app.command("check")
def schemas_check(
    folder: Annotated[Path, typer.Option("--dir", help="Dossier des schémas publiés.")] = Path(
        "schemas"
    ),
) -> None:
    """Vérifie que les schémas publiés correspondent aux modèles (code 1 sinon)."""
    from .schema_export import diff_schemas

    drift = diff_schemas(folder)
    if drift:
        err.print("Schémas à régénérer (make schemas) : " + ", ".join(drift))
        raise typer.Exit(1)
    out.print("Schémas à jour.")


@openapi_app.command("export")
def openapi_export(
    folder: Annotated[Path, typer.Option("--dir", help="Dossier de sortie.")] = Path("openapi"),
) -> None:
    """Écrit le document OpenAPI de chaque rôle (registry.json, gateway.json, seller.json,
    buyer.json), avec les exemples des appels principaux.

    Chaque application est construite sur une base SQLite jetable, sans réseau."""
    from .openapi_export import ExportError, generate, write_documents

    try:
        written = write_documents(folder)
    except ExportError as exc:
        raise _fail(f"{exc}\nCorrigez l'application, puis relancez make openapi.", 1) from None
    out.print(f"{len(written)} documents OpenAPI écrits dans {folder}")
    for example in generate().unplaced:
        err.print(
            f"[yellow]Exemple non placé[/] (route absente) : {example.role} "
            f"{example.method.upper()} {example.path}",
            highlight=False,
        )


@openapi_app.command("check")
def openapi_check(
    folder: Annotated[Path, typer.Option("--dir", help="Dossier des documents publiés.")] = Path(
        "openapi"
    ),
) -> None:
    """Vérifie que les documents publiés correspondent aux applications (code 1 sinon)."""
    from .openapi_export import REGENERATE, ExportError, diff_documents

    try:
        drift = diff_documents(folder)
    except ExportError as exc:
        raise _fail(str(exc), 1) from None
    if drift:
        for name in drift:
            err.print(f"différent : {folder / name}", highlight=False, soft_wrap=True)
        err.print(
            f"Documents OpenAPI à régénérer : {REGENERATE} "
            f"(ou reseau-poles openapi export --dir {folder}), puis commitez-les."
        )
        raise typer.Exit(1)
    out.print("Documents OpenAPI à jour.")


demo_app = typer.Typer(
    help=(
        "Démonstration : lance un réseau complet sur cette machine (registre, passerelle, nœud "
        "acheteur, nœuds vendeurs hébergeant 25 pôles fictifs et 2 000 produits québécois), sur "
        "SQLite dans --data-dir, puis affiche une visite guidée ; Ctrl-C arrête tout. Au "
        "premier lancement : clés, bases, catalogues et inscriptions au registre ; ensuite, tout "
        "est réutilisé. « reseau-poles demo protocol » montre le cœur du protocole seul."
    ),
    short_help="Tout le réseau sur cette machine, avec une visite guidée (Ctrl-C arrête tout).",
    invoke_without_command=True,
)
app.add_typer(demo_app, name="demo")


@demo_app.callback()
def demo(
    ctx: typer.Context,
    once: Annotated[
        bool,
        typer.Option(
            "--once",
            help="Dérouler le scénario complet (recherche, commande multi-pôles, livraison, "
            "annulation), puis tout arrêter ; code 0 si chaque étape a reçu son rappel.",
        ),
    ] = False,
    transcript: Annotated[
        Path | None,
        typer.Option(
            help="Écrire dans ce fichier (JSONL) chaque message du protocole, signé, tel "
            "qu'il a circulé, à l'arrêt du réseau."
        ),
    ] = None,
    data_dir: Annotated[
        Path, typer.Option(help="Dossier des bases, clés, journaux et configurations.")
    ] = Path(".demo"),
    base_port: Annotated[
        int,
        typer.Option(min=1024, max=65000, help="Premier port (registre ; les autres suivent)."),
    ] = 8700,
    seller_nodes: Annotated[
        int, typer.Option(min=1, max=25, help="Nœuds vendeurs (les 25 pôles répartis).")
    ] = 5,
) -> None:
    """Le réseau de démonstration (voir l'aide de « reseau-poles demo »)."""
    if ctx.invoked_subcommand is not None:
        return
    from .demo.run import run_demo

    raise typer.Exit(
        run_demo(
            out,
            data_dir=data_dir,
            base_port=base_port,
            seller_nodes=seller_nodes,
            once=once,
            transcript=transcript,
        )
    )


@demo_app.command("protocol")
def demo_protocol() -> None:
    """Le cœur du protocole à l'œuvre : une recherche signée, vérifiée, puis altérée."""
    from .demo.protocol import protocol_demo

    raise typer.Exit(protocol_demo(out, now=time.time()))


conformance_app = typer.Typer(
    help=(
        "Conformité d'un nœud (vendeur ou acheteur) d'un éditeur : le testeur joue le "
        "participant d'en face, signe et vérifie chaque message, et rend compte vérification "
        "par vérification (français ou anglais, et JSON pour l'intégration continue). Code 0 "
        "seulement si toutes les vérifications réussissent ; 1 sinon ; 2 si le testeur n'a pas "
        "pu tourner (registre injoignable, inscription refusée)."
    ),
    short_help="Tester la conformité d'un nœud vendeur ou acheteur (rapport fr/en et JSON).",
    no_args_is_help=True,
)
app.add_typer(conformance_app, name="conformance")

_Registry = Annotated[
    str, typer.Option("--registry", help="Adresse du registre (ex. http://127.0.0.1:8000).")
]
_Tester = Annotated[
    str,
    typer.Option(
        "--subscriber-id",
        help="Identifiant d'abonné du testeur (inscrit au registre par le testeur lui-même).",
    ),
]
_Target = Annotated[str, typer.Option("--target", help="Identifiant d'abonné du nœud testé.")]
_Keys = Annotated[
    Path,
    typer.Option(
        "--keys", help="Dossier des clés du testeur (créées au premier lancement, puis gardées)."
    ),
]
_Listen = Annotated[
    str,
    typer.Option("--listen", help="Adresse hôte:port où le testeur reçoit les messages."),
]
_PublicUrl = Annotated[
    str | None,
    typer.Option(
        "--public-url",
        help="Adresse du testeur inscrite au registre (défaut : http://<--listen>) ; le nœud "
        "testé et le registre doivent la joindre.",
    ),
]
_Json = Annotated[
    Path | None, typer.Option("--json", help="Écrire le rapport JSON dans ce fichier.")
]
_Lang = Annotated[str, typer.Option("--lang", help="Langue du rapport : fr ou en.")]
_Subscribe = Annotated[
    bool,
    typer.Option(
        "--subscribe/--no-subscribe",
        help="Inscrire le testeur au registre (sinon : l'opérateur l'a déjà inscrit).",
    ),
]
_ApprovalWait = Annotated[
    float,
    typer.Option(
        "--approval-wait",
        min=0,
        help="Secondes d'attente de l'approbation de l'opérateur (registre en mode approval).",
    ),
]


def _conformance(
    role: str,
    *,
    registry: str,
    subscriber_id: str,
    keys: Path,
    listen: str,
    public_url: str | None,
    subscribe: bool,
    approval_wait: float,
    json_file: Path | None,
    lang: str,
    run: object,
) -> None:
    from .conformance.peer import Tester, TesterError
    from .conformance.report import render_text
    from .keystore import KeyFiles
    from .protocol.errors import KeyFormatError

    if lang not in ("fr", "en"):
        raise _fail("--lang : fr ou en.")
    host, sep, port_text = listen.rpartition(":")
    if not sep or not port_text.isdigit() or not host:
        raise _fail(f"--listen : hôte:port attendu (ex. 127.0.0.1:9100), reçu « {listen} ».")
    try:
        tester_keys = KeyFiles(keys).load_or_generate(subscriber_id)
    except (KeyFormatError, OSError) as exc:
        raise _fail(f"clés du testeur illisibles dans {keys} : {exc}") from None
    if tester_keys.subscriber_id != subscriber_id:
        raise _fail(
            f"{keys} contient les clés de {tester_keys.subscriber_id}, pas de {subscriber_id}."
        )
    tester = Tester(
        tester_keys,
        registry,
        host,
        int(port_text),
        public_url or f"http://{listen}",
        "BAP" if role == "seller" else "BPP",
        say=lambda text: err.print(text, highlight=False),
    )
    try:
        tester.start()
        try:
            if subscribe:
                tester.join(approval_wait=approval_wait)
            report = run(tester)  # type: ignore[operator]
        finally:
            tester.stop()
    except TesterError as exc:
        raise _fail(str(exc)) from None
    out.print(render_text(report, lang), highlight=False, soft_wrap=True, markup=False)
    if json_file is not None:
        json_file.write_text(report.to_json(), "utf-8")
    raise typer.Exit(0 if report.ok else 1)


@conformance_app.command("seller")
def conformance_seller(
    registry: _Registry,
    subscriber_id: _Tester,
    target: _Target,
    keys: _Keys = Path("conformance-keys"),
    listen: _Listen = "127.0.0.1:9100",
    public_url: _PublicUrl = None,
    json_file: _Json = None,
    lang: _Lang = "fr",
    subscribe: _Subscribe = True,
    approval_wait: _ApprovalWait = 0.0,
    ttl: Annotated[
        float,
        typer.Option(min=1, help="ttl des requêtes (s) : chaque rappel doit arriver avant."),
    ] = 30.0,
    city: Annotated[
        str, typer.Option(help="Région des requêtes (context.location.city.code).")
    ] = "*",
    search_text: Annotated[
        str | None, typer.Option(help="Texte de la recherche (défaut : tout le catalogue).")
    ] = None,
) -> None:
    """Contre un nœud vendeur (BPP) : le testeur joue un nœud acheteur (inscrit comme BAP).

    Inscription et clés au registre, défi /on_subscribe, search → on_search (catalogue et
    étiquettes du profil québécois), select → on_select (devis, TPS, TVQ), init, confirm,
    status, cancel ; signature, délai, contexte et schéma de chaque rappel ; refus d'un
    rejeu, d'une signature expirée et d'un corps modifié."""
    from .conformance.seller import SellerOptions, run_seller

    options = SellerOptions(target, city=city, search_text=search_text, ttl=ttl)
    _conformance(
        "seller",
        registry=registry,
        subscriber_id=subscriber_id,
        keys=keys,
        listen=listen,
        public_url=public_url,
        subscribe=subscribe,
        approval_wait=approval_wait,
        json_file=json_file,
        lang=lang,
        run=lambda tester: run_seller(tester, options),
    )


@conformance_app.command("buyer")
def conformance_buyer(
    registry: _Registry,
    subscriber_id: _Tester,
    target: _Target,
    keys: _Keys = Path("conformance-keys"),
    listen: _Listen = "127.0.0.1:9100",
    public_url: _PublicUrl = None,
    json_file: _Json = None,
    lang: _Lang = "fr",
    subscribe: _Subscribe = True,
    approval_wait: _ApprovalWait = 0.0,
    wait: Annotated[
        float,
        typer.Option(min=1, help="Secondes d'attente d'une recherche (search) du nœud testé."),
    ] = 120.0,
    trigger: Annotated[
        str | None,
        typer.Option(
            help="Commande (shell) lancée quand le testeur est prêt, qui fait chercher le nœud "
            "testé (ex. un curl vers son API) ; sinon, lancez la recherche vous-même."
        ),
    ] = None,
) -> None:
    """Contre un nœud acheteur (BAP) : le testeur joue un nœud vendeur (inscrit comme BPP).

    Inscription et clés au registre, défi /on_subscribe ; attend une recherche du nœud et la
    vérifie (signature, contexte, schéma) ; on_search valide accepté (ACK) ; refus d'une
    transaction inconnue, d'un corps modifié, d'un rejeu et d'une signature expirée."""
    import subprocess

    from .conformance.buyer import BuyerOptions, run_buyer

    def start_search() -> None:
        if trigger:
            subprocess.Popen(trigger, shell=True)

    options = BuyerOptions(target, wait=wait, trigger=start_search if trigger else None)
    _conformance(
        "buyer",
        registry=registry,
        subscriber_id=subscriber_id,
        keys=keys,
        listen=listen,
        public_url=public_url,
        subscribe=subscribe,
        approval_wait=approval_wait,
        json_file=json_file,
        lang=lang,
        run=lambda tester: run_buyer(tester, options),
    )


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
