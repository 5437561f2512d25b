"""``reseau-poles sign`` and ``reseau-poles verify``: a BECKN-006 signature made, or checked and
explained, on a body read byte for byte."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .console import err, fail, out, read_body

# Defaults shown by `sign --help` and `verify --help`, written here so that the help does not
# load the cryptography; tests/test_cli_speed.py checks they are those of protocol.signing.
DEFAULT_TTL_SECONDS = 30
DEFAULT_SKEW_SECONDS = 5.0


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
    from ..keystore import read_private_key_file
    from ..protocol import signing
    from ..protocol.errors import KeyFormatError

    try:
        key = read_private_key_file(private_key)
        signer = signing.Signer(subscriber_id, key_id, key, default_ttl=ttl)
    except (KeyFormatError, ValueError) as exc:
        raise fail(str(exc)) from None
    body = read_body(body_file)
    out.print(signer.sign(body, created=created, expires=expires), highlight=False, soft_wrap=True)


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
    from ..protocol import signing

    if public_key.startswith("@"):
        try:
            public_key = Path(public_key[1:]).read_text("ascii").strip()
        except OSError as exc:
            raise fail(f"clé publique illisible : {exc}") from None
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
    body = read_body(body_file)
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
