"""``reseau-poles``: the command line of the network.

The protocol tools and the tools over several roles live in this package, one module per
group of commands: :mod:`.keys`, :mod:`.signatures` (``sign``, ``verify``), :mod:`.documents`
(``schemas``, ``openapi``), :mod:`.demo`, :mod:`.conformance`; each role adds its own commands
(``reseau-poles registry …``) from its package's ``cli`` module.
"""

from __future__ import annotations

import difflib
import importlib
import sys
from typing import TYPE_CHECKING

import typer
from typer.core import TyperGroup

from ..cli_typer import convert_on_first_value, import_rich_utils
from . import conformance, demo, documents, keys, signatures

if TYPE_CHECKING:
    # Typer's groups take the Click that Typer carries (typer._click), not a separate click.
    from typer import _click as click

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
            stand_in.rich_help_panel = _ROLES_PANEL
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
        command.rich_help_panel = _ROLES_PANEL
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

# The commands of this package, in the order of the help page (commands, then groups).
app.command("sign")(signatures.sign)
app.command("verify")(signatures.verify)
app.add_typer(keys.app, name="keys")
app.add_typer(documents.schemas_app, name="schemas")
app.add_typer(documents.openapi_app, name="openapi")
app.add_typer(demo.app, name="demo")
app.add_typer(conformance.app, name="conformance")


def main() -> None:  # pragma: no cover - console entry point
    app()
