"""The ``/on_subscribe`` contract as files: a worked example and an OpenAPI piece.

A vendor implements ``POST /on_subscribe`` from registry/README.md ("Le contrat
/on_subscribe"); these files give it fixed keys, the challenge the registry would send under
each scheme and the answer expected, to check its code in any language:

* ``registry/on_subscribe.example.json`` — the worked example (made here from fixed seeds:
  the sealed box's ephemeral key is fixed too, so the file is the same at every run);
* ``registry/on_subscribe.openapi.json`` — the request and the answer as an OpenAPI 3.1
  piece (JSON Schema 2020-12), with the example's bodies as its examples.

``python -m reseau_poles.registry.contract --out registry`` writes both;
tests/registry/test_contract.py fails when they, or the README's copy of the example, drift.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any, Final

from nacl.bindings import crypto_box, crypto_scalarmult_base

from reseau_poles.protocol.keys import (
    EncryptionKeyPair,
    b64encode,
    ondc_encrypt_challenge,
    x25519_shared_key,
)

EXAMPLE_FILE: Final = "on_subscribe.example.json"
OPENAPI_FILE: Final = "on_subscribe.openapi.json"
PARTICIPANT_ID: Final = "pile-exemple.reseau-poles.example"
REGISTRY_ID: Final = "registre.reseau-poles.example"


def _seed(label: str) -> bytes:
    return hashlib.sha256(
        f"reseau-poles, exemple du contrat on_subscribe : {label}".encode()
    ).digest()


def _fixed_challenge() -> str:
    # The registry's challenges are secrets.token_urlsafe(32): 43 url-safe characters.
    digest = hashlib.sha256(_seed("défi")).digest()
    return b64encode(digest).replace("+", "-").replace("/", "_").rstrip("=")


def sealed_box_with(ephemeral_private: bytes, recipient_public: bytes, message: bytes) -> bytes:
    """libsodium's ``crypto_box_seal`` with a given ephemeral key (the real one draws it at
    random): ``epk || crypto_box(m, nonce = BLAKE2b-192(epk || pk), pk, esk)``."""
    ephemeral_public = crypto_scalarmult_base(ephemeral_private)
    nonce = hashlib.blake2b(ephemeral_public + recipient_public, digest_size=24).digest()
    return ephemeral_public + crypto_box(message, nonce, recipient_public, ephemeral_private)


def build_example() -> dict[str, Any]:
    participant = EncryptionKeyPair.from_private(_seed("participant"))
    registry = EncryptionKeyPair.from_private(_seed("registre"))
    ephemeral = _seed("clé éphémère de la boîte scellée")
    challenge = _fixed_challenge()
    sealed = sealed_box_with(ephemeral, participant.public_key, challenge.encode("utf-8"))
    ondc = ondc_encrypt_challenge(registry, participant.public_key, challenge)
    return {
        "_avertissement": (
            "Clés d'exemple, publiques : ne jamais les employer ailleurs. "
            "Example keys, public: never use them for anything else."
        ),
        "participant": {
            "subscriber_id": PARTICIPANT_ID,
            "encryption_private_key": participant.private_key_b64,
            "encryption_private_key_pkcs8_der": participant.private_key_der_b64,
            "encr_public_key": participant.public_key_b64,
            "encr_public_key_spki_der": participant.public_key_der_b64,
        },
        "registry": {
            "subscriber_id": REGISTRY_ID,
            "encr_public_key": registry.public_key_b64,
            "encr_public_key_spki_der": registry.public_key_der_b64,
        },
        "challenge_plaintext": challenge,
        "sealed_box": {
            "ephemeral_public_key": b64encode(sealed[:32]),
            "request": {"subscriber_id": PARTICIPANT_ID, "challenge": b64encode(sealed)},
            "answer": {"answer": challenge},
        },
        "ondc": {
            "shared_key": b64encode(
                x25519_shared_key(participant.private_key, registry.public_key)
            ),
            "request": {"subscriber_id": PARTICIPANT_ID, "challenge": ondc},
            "answer": {"answer": challenge},
        },
    }


def build_openapi(example: dict[str, Any]) -> dict[str, Any]:
    request_schema = {
        "type": "object",
        "required": ["subscriber_id", "challenge"],
        "properties": {
            "subscriber_id": {
                "type": "string",
                "description": "L'identifiant qui s'inscrit (le vôtre). / The subscribing id.",
            },
            "challenge": {
                "type": "string",
                "contentEncoding": "base64",
                "minLength": 4,
                "description": (
                    "Le défi chiffré, en base64 standard. sealed_box : crypto_box_seal "
                    "(libsodium) pour encr_public_key, à ouvrir avec crypto_box_seal_open. "
                    "ondc : AES-256-ECB, remplissage PKCS#7, clé = secret X25519 brut (32 "
                    "octets) entre la clé privée du participant et encr_public_key du "
                    "registre. Le clair est du texte UTF-8 (43 caractères url-safe)."
                ),
            },
        },
        "additionalProperties": True,
    }
    answer_schema = {
        "type": "object",
        "required": ["answer"],
        "properties": {
            "answer": {
                "type": "string",
                "description": "Le défi déchiffré, tel quel. / The decrypted challenge, as is.",
            }
        },
        "additionalProperties": True,
    }
    examples = {
        scheme: {
            "request": {"summary": scheme, "value": example[scheme]["request"]},
            "answer": {"summary": scheme, "value": example[scheme]["answer"]},
        }
        for scheme in ("sealed_box", "ondc")
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Réseau Pôles — contrat /on_subscribe du participant",
            "version": "1.0.0",
            "description": (
                "Ce que le registre poste à {url}/on_subscribe pendant une inscription, et la "
                "réponse attendue (registry/README.md, « Le contrat /on_subscribe »). Toute "
                "autre réponse (statut hors 2xx, pas du JSON, mauvaise réponse, silence au-delà "
                "du délai) fait refuser l'inscription : code 15003, chemin url. Exemple "
                f"complet : {EXAMPLE_FILE}. Généré par python -m reseau_poles.registry.contract."
            ),
        },
        "paths": {
            "/on_subscribe": {
                "post": {
                    "operationId": "on_subscribe",
                    "summary": "Défi du registre / The registry's challenge",
                    "parameters": [
                        {
                            "name": "Authorization",
                            "in": "header",
                            "required": False,
                            "description": (
                                "Signature du registre (BECKN-006, Ed25519) : à vérifier si "
                                "vous le voulez, avec signing_public_key de son document "
                                "/.well-known/reseau-poles/registry.json."
                            ),
                            "schema": {"type": "string"},
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/OnSubscribeRequest"},
                                "examples": {k: v["request"] for k, v in examples.items()},
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "Le défi relevé / The challenge met",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/OnSubscribeAnswer"},
                                    "examples": {k: v["answer"] for k, v in examples.items()},
                                }
                            },
                        }
                    },
                }
            }
        },
        "components": {
            "schemas": {"OnSubscribeRequest": request_schema, "OnSubscribeAnswer": answer_schema}
        },
    }


def render(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def write(folder: Path) -> list[Path]:
    example = build_example()
    written = []
    for name, data in ((EXAMPLE_FILE, example), (OPENAPI_FILE, build_openapi(example))):
        path = folder / name
        path.write_text(render(data), "utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("registry"), help="dossier (registry)")
    args = parser.parse_args(argv)
    for path in write(args.out):
        print(path)


if __name__ == "__main__":
    main()
