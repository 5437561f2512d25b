"""``reseau-poles conformance …``: the conformance tester against a vendor's seller or buyer
node (:mod:`reseau_poles.conformance`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .console import err, fail, out

app = typer.Typer(
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
    from ..conformance.peer import Tester, TesterError
    from ..conformance.report import render_text
    from ..keystore import KeyFiles
    from ..protocol.errors import KeyFormatError

    if lang not in ("fr", "en"):
        raise fail("--lang : fr ou en.")
    host, sep, port_text = listen.rpartition(":")
    if not sep or not port_text.isdigit() or not host:
        raise fail(f"--listen : hôte:port attendu (ex. 127.0.0.1:9100), reçu « {listen} ».")
    try:
        tester_keys = KeyFiles(keys).load_or_generate(subscriber_id)
    except (KeyFormatError, OSError) as exc:
        raise fail(f"clés du testeur illisibles dans {keys} : {exc}") from None
    if tester_keys.subscriber_id != subscriber_id:
        raise fail(
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
        raise fail(str(exc)) from None
    out.print(render_text(report, lang), highlight=False, soft_wrap=True, markup=False)
    if json_file is not None:
        json_file.write_text(report.to_json(), "utf-8")
    raise typer.Exit(0 if report.ok else 1)


@app.command("seller")
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
    from ..conformance.seller import SellerOptions, run_seller

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


@app.command("buyer")
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

    from ..conformance.buyer import BuyerOptions, run_buyer

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
