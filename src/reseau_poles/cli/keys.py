"""``reseau-poles keys …``: a subscriber's key pairs, made and exported for other stacks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .console import fail, out

app = typer.Typer(
    help="Clés de signature (Ed25519) et de chiffrement (X25519).", no_args_is_help=True
)


@app.command("generate")
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
    from ..keystore import KeyFiles
    from ..protocol.keys import SubscriberKeys

    keys = SubscriberKeys.generate(subscriber_id, key_id)
    try:
        KeyFiles(out_dir).write(keys, overwrite=force)
    except FileExistsError as exc:
        raise fail(f"{exc}. Ajoutez --force pour les remplacer.") from None
    record = keys.public_record()
    out.print(f"Clés écrites dans [bold]{out_dir}[/] (fichiers privés en mode 0600).")
    for name in ("subscriber_id", "key_id", "signing_public_key", "encr_public_key"):
        out.print(f"{name}={record[name]}", highlight=False, soft_wrap=True)


@app.command("export")
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

    from ..files import open_private
    from ..keystore import KeyFiles
    from ..protocol.errors import KeyFormatError

    try:
        keys = KeyFiles(keys_dir).read()
    except KeyFormatError as exc:
        raise fail(str(exc)) from None
    if out_file.exists() and not force:
        raise fail(f"{out_file} existe déjà. Ajoutez --force pour le remplacer.")
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
