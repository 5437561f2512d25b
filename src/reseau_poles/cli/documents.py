"""``reseau-poles schemas …`` and ``reseau-poles openapi …``: the published documents (JSON
Schemas of the messages, OpenAPI of each role) written, or checked against the code."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .console import err, fail, out

schemas_app = typer.Typer(
    help="Schémas JSON des messages, générés à partir des modèles.", no_args_is_help=True
)
openapi_app = typer.Typer(
    help="Documents OpenAPI de chaque rôle (registre, passerelle, nœuds vendeur et acheteur).",
    no_args_is_help=True,
)


@schemas_app.command("export")
def schemas_export(
    out_dir: Annotated[Path, typer.Option("--out", help="Dossier de sortie.")] = Path("schemas"),
) -> None:
    """Écrit le schéma JSON de chaque message (un fichier par action) dans le dossier."""
    from ..schema_export import write_schemas

    written = write_schemas(out_dir)
    out.print(f"{len(written)} schémas écrits dans {out_dir}")


@schemas_app.command("check")
def schemas_check(
    folder: Annotated[Path, typer.Option("--dir", help="Dossier des schémas publiés.")] = Path(
        "schemas"
    ),
) -> None:
    """Vérifie que les schémas publiés correspondent aux modèles (code 1 sinon)."""
    from ..schema_export import diff_schemas

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
    from ..openapi_export import ExportError, generate, write_documents

    try:
        written = write_documents(folder)
    except ExportError as exc:
        raise fail(f"{exc}\nCorrigez l'application, puis relancez make openapi.", 1) from None
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
    from ..openapi_export import REGENERATE, ExportError, diff_documents

    try:
        drift = diff_documents(folder)
    except ExportError as exc:
        raise fail(str(exc), 1) from None
    if drift:
        for name in drift:
            err.print(f"différent : {folder / name}", highlight=False, soft_wrap=True)
        err.print(
            f"Documents OpenAPI à régénérer : {REGENERATE} "
            f"(ou reseau-poles openapi export --dir {folder}), puis commitez-les."
        )
        raise typer.Exit(1)
    out.print("Documents OpenAPI à jour.")
