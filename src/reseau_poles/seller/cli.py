"""``reseau-poles seller …``: run the seller node and keep its database."""

from __future__ import annotations

import typer

from reseau_poles.node.cli import add_node_commands

from .settings import load_settings

app = typer.Typer(help="Nœud vendeur (BPP) d'un ou de plusieurs pôles.", no_args_is_help=True)


add_node_commands(
    app,
    label="nœud vendeur",
    load_settings=load_settings,
    app_module="reseau_poles.seller.app",
)
