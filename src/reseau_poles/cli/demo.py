"""``reseau-poles demo``: the whole network on this machine, and the protocol core alone."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from .console import out

app = typer.Typer(
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


@app.callback()
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
    from ..demo.run import run_demo

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


@app.command("protocol")
def demo_protocol() -> None:
    """Le cœur du protocole à l'œuvre : une recherche signée, vérifiée, puis altérée."""
    from ..demo.protocol import protocol_demo

    raise typer.Exit(protocol_demo(out, now=time.time()))
