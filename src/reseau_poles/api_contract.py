"""What each role's OpenAPI document declares beyond what FastAPI writes: examples for the main
calls, every refusal with its schema (``{"error": …}`` on ``/api``, the NACK elsewhere), the
security schemes. Each role applies it to the document it serves
(:func:`reseau_poles.api_docs.serve_contract`), and ``reseau_poles.openapi_export`` writes the
same documents to ``openapi/``; the examples are placed by method and path *after* the
document is generated, so the role packages need not carry them. No role is imported here.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final

GENERATED_BY: Final = "reseau-poles openapi export (make openapi) — ne pas modifier à la main"
KITS: Final = {
    "registry": "registry/README.md",
    "gateway": "gateway/README.md",
    "seller": "seller_node/README.md",
    "buyer": "buyer_node/README.md",
}

# --- examples -----------------------------------------------------------------------------------

# Fixed keys, so the examples give the same bytes on every machine (never use them for real).
_EXAMPLE_SIGNING_SEED: Final = bytes(range(32))
_EXAMPLE_ENCRYPTION_SECRET: Final = bytes(range(32, 64))


def _example_keys() -> tuple[str, str]:
    from nacl.public import PrivateKey
    from nacl.signing import SigningKey

    from reseau_poles.protocol.keys import b64encode

    signing = SigningKey(_EXAMPLE_SIGNING_SEED).verify_key.encode()
    encryption = PrivateKey(_EXAMPLE_ENCRYPTION_SECRET).public_key.encode()
    return b64encode(signing), b64encode(encryption)


def _api_error(code: str, message: str, path: str) -> dict[str, Any]:
    return {
        "summary": f"Erreur {code}",
        "value": {"error": {"code": code, "message": message, "path": path}},
    }


def _subscribe_record() -> dict[str, Any]:
    signing, encryption = _example_keys()
    return {
        "subscriber_id": "marche-quebec.example",
        "url": "https://marche-quebec.example/beckn",
        "type": "BPP",
        "domains": ["PLA:ALIMENTS"],
        "regions": ["QC-03", "QC-12"],
        "country": "CAN",
        "key_id": "cle-2026-11",
        "signing_public_key": signing,
        "encr_public_key": encryption,
        "valid_from": "2026-11-26T00:00:00Z",
        "valid_until": "2027-11-26T00:00:00Z",
    }


def _product() -> dict[str, Any]:
    return {
        "sku": "sirop-erable-540ml",
        "name": "Sirop d'érable ambré, 540 ml",
        "short_desc": "Sirop d'érable pur, goût riche, récolte du printemps",
        "name_en": "Amber maple syrup, 540 ml",
        "category_id": "produits-erable",
        "category_name": "Produits de l'érable",
        "unit": "unite",
        "price": "9.75",
        "minimum_quantity": 12,
        "taxable": False,
        "certifications": ["aliments_du_quebec", "biologique_canada"],
        "conservation": "ambiant",
        "producer": "Érablière du Rang 4",
        "origin_region": "QC-12",
        "stock": 480,
    }


_PRODUCTS_CSV: Final = (
    "sku,nom,categorie,categorie_code,unite,prix,quantite_min,conservation,certifications,"
    "producteur,region_origine,saison,stock\n"
    "sirop-erable-540ml,Sirop d'érable ambré 540 ml,Produits de l'érable,produits-erable,"
    "unite,9.75,12,ambiant,aliments_du_quebec|biologique_canada,Érablière du Rang 4,QC-12,,480\n"
    "fraises-1l,Fraises d'été 1 l,Fruits,fruits,unite,6.25,8,refrigere,aliments_du_quebec,"
    "Ferme des Deux Rives,QC-03,6-9,120\n"
)


def _order() -> dict[str, Any]:
    return {
        "provider": {"bpp_id": "marche-quebec.example", "id": "pole-capitale"},
        "items": [
            {"id": "sirop-erable-540ml", "quantity": 24},
            {"id": "fromage-grains-1kg", "quantity": 10},
        ],
        "fulfilment": {
            "type": "livraison",
            "address": "1100, boul. de la Cafétéria, Québec (Québec) G1V 4E2",
            "region": "QC-03",
            "contact": {"name": "Cuisine centrale", "phone": "+1-418-555-0142"},
        },
        "purchase_order_number": "BC-2026-1187",
        "delivery_window": {
            "start": "2026-12-01T08:00:00-05:00",
            "end": "2026-12-01T11:00:00-05:00",
        },
    }


def _init() -> dict[str, Any]:
    return {
        "billing": {
            "name": "Centre de services scolaire de la Capitale",
            "address": "1900, rue Côté, Québec (Québec) G1N 3Y5",
            "email": "comptes.fournisseurs@cscapitale.example",
            "tax_id": "TPS 123456789 RT0001; TVQ 1234567890 TQ0001",
        },
        "payment": {"type": "POST-FULFILLMENT", "net_days": 30},
    }


@dataclass(frozen=True)
class Example:
    """Examples for every operation of ``role`` whose method is ``method`` and whose path
    matches ``path`` (a regular expression, whole path): request bodies, and responses by
    status code."""

    role: str
    method: str
    path: str
    requests: Callable[[], dict[str, dict[str, Any]]] | None = None
    media_type: str = "application/json"
    responses: Callable[[], dict[str, dict[str, dict[str, Any]]]] | None = None
    note: str | None = None

    def matches(self, role: str, method: str, path: str) -> bool:
        return (
            role == self.role
            and method == self.method
            and re.fullmatch(self.path, path) is not None
        )


EXAMPLES: Final[tuple[Example, ...]] = (
    # --- registry ---
    Example(
        "registry",
        "post",
        r"/subscribe",
        lambda: {
            "seller_node": {
                "summary": "Un nœud vendeur s'inscrit (corps signé avec sa clé)",
                "value": _subscribe_record(),
            }
        },
    ),
    Example(
        "registry",
        "post",
        r"/lookup",
        lambda: {
            "sellers_in_region": {
                "summary": "Les nœuds vendeurs d'un domaine dans une région",
                "value": {"type": "BPP", "domain": "PLA:ALIMENTS", "city": "QC-03"},
            },
            "one_key": {
                "summary": "La clé d'un participant (vérification d'une signature)",
                "value": {"subscriber_id": "marche-quebec.example", "ukId": "cle-2026-11"},
            },
        },
    ),
    # --- buyer node: the client API ---
    Example(
        "buyer",
        "post",
        r"/api/searches",
        lambda: {
            "syrup_in_capitale": {
                "summary": "Sirop d'érable certifié Aliments du Québec, livré en Capitale-Nationale",
                "value": {
                    "text": "sirop d'érable",
                    "region": "QC-03",
                    "certification": ["aliments_du_quebec"],
                },
            },
            "by_postal_code": {
                "summary": "Produits réfrigérés livrés à une adresse (code postal)",
                "value": {
                    "category": "produits-laitiers",
                    "conservation": "refrigere",
                    "postal_code": "G1V 4E2",
                },
            },
        },
        responses=lambda: {
            "401": {
                "no_key": _api_error(
                    "non_authentifie",
                    "Clé d'API manquante (en-tête X-API-Key ou Authorization: Bearer).",
                    "headers.X-API-Key",
                )
            }
        },
    ),
    Example(
        "buyer",
        "post",
        r"/api/orders",
        lambda: {
            "school_order": {
                "summary": "Commande d'un centre de services scolaire à un pôle (select)",
                "value": _order(),
            }
        },
    ),
    Example(
        "buyer",
        "post",
        r"/api/orders/\{[^}/]+\}/\{[^}/]+\}",
        lambda: {
            "init": {"summary": "init : facturation et paiement net 30 jours", "value": _init()},
            "confirm": {"summary": "confirm : la commande ferme (corps facultatif)", "value": {}},
            "cancel": {
                "summary": "cancel : annuler ce qui reste de la commande",
                "value": {"reason_code": "001", "description": "Sortie éducative : cuisine fermée"},
            },
        },
    ),
    # --- seller node: the pôle's management API ---
    Example(
        "seller",
        "put",
        r"/api/(.+/)?(items|products)/\{[^}/]+\}",
        lambda: {
            "maple_syrup": {
                "summary": "Un produit, créé ou mis à jour par son SKU",
                "value": _product(),
            }
        },
    ),
    Example(
        "seller",
        "post",
        r"/api/(.+/)?(items|products)/import(\.csv)?",
        lambda: {
            "two_products": {
                "summary": "Import CSV (une ligne par produit, mise à jour par SKU)",
                "value": _PRODUCTS_CSV,
            }
        },
        media_type="text/csv",
    ),
    Example(
        "seller",
        "post",
        r"/api/(.+/)?orders/\{[^}/]+\}/fulfil?lment",
        lambda: {
            "out_for_delivery": {
                "summary": "Le camion est parti : on_status envoyé à l'acheteur",
                "value": {
                    "state": "Out-for-delivery",
                    "tracking_url": "https://marche-quebec.example/suivi/CMD-2026-0042",
                },
            },
            "delivered": {"summary": "Livrée", "value": {"state": "Order-delivered"}},
        },
    ),
)


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if isinstance(operation, dict) and method in {
                "get",
                "put",
                "post",
                "delete",
                "patch",
            }:
                yield path, method, operation


def _add_request_examples(operation: dict[str, Any], example: Example) -> None:
    assert example.requests is not None
    body = operation.setdefault("requestBody", {"required": True, "content": {}})
    content = body.setdefault("content", {})
    media = content.setdefault(example.media_type, {})
    if "schema" not in media:
        media["schema"] = (
            {"type": "string"} if example.media_type.startswith("text/") else {"type": "object"}
        )
    media.setdefault("examples", {}).update(example.requests())


def _add_response_examples(operation: dict[str, Any], example: Example) -> None:
    assert example.responses is not None
    responses = operation.setdefault("responses", {})
    for status, examples in example.responses().items():
        response = responses.setdefault(
            status, {"description": "Erreur" if status >= "400" else "OK"}
        )
        content = response.setdefault("content", {})
        media = content.setdefault("application/json", {})
        media.setdefault("schema", {"type": "object"})
        if media["schema"] == {}:
            media["schema"] = {"type": "object"}
        media.setdefault("examples", {}).update(examples)


def complete_document(role: str, document: dict[str, Any]) -> dict[str, Any]:
    """FastAPI's document for ``role`` as the role serves it and ``openapi/`` keeps it."""
    return complete(role, document)[0]


def complete(role: str, document: dict[str, Any]) -> tuple[dict[str, Any], list[Example]]:
    """``document`` with our additions; also the examples that found their operation."""
    document = copy.deepcopy(document)
    info = document.setdefault("info", {})
    info["x-generated-by"] = GENERATED_BY
    info["description"] = (
        info.get("description", "").rstrip()
        + f"\n\nTrousse de l'exploitant : `{KITS[role]}`. Protocole : Beckn 1.1 avec le profil "
        "Réseau Pôles (schémas des messages dans `schemas/`)."
    ).lstrip()
    placed: list[Example] = []
    for path, method, operation in _operations(document):
        for example in EXAMPLES:
            if not example.matches(role, method, path):
                continue
            if example.requests is not None:
                _add_request_examples(operation, example)
            if example.responses is not None:
                _add_response_examples(operation, example)
            if example.note and example.note not in operation.get("description", ""):
                operation["description"] = (
                    operation.get("description", "").rstrip() + "\n\n" + example.note
                ).lstrip()
            placed.append(example)
    _declare_refusals(role, document)
    return document, placed


# --- refusals and authentication ---------------------------------------------------------------

_API: Final = "/api"
_REF: Final = "#/components/schemas/{model}"
# FastAPI adds a 422 to every route with parameters; none of ours ever answers 422 (the
# client API answers 400 ``parametres_invalides``, the protocol and the registry a NACK).
_FASTAPI_422: Final = ("HTTPValidationError", "ValidationError")

_API_ERRORS: Final = {
    "400": "Requête refusée : `parametres_invalides`, `json_invalide` … et le chemin fautif.",
    "401": "Clé d'API manquante, inconnue ou révoquée (`non_authentifie`).",
    "403": "Cette clé d'API appartient à un autre pôle (`acces_refuse`).",
    "404": "Introuvable (ou adresse inconnue) : le code dit quoi.",
    "409": "Refusé dans l'état actuel (conflit, état de la commande, import en cours …).",
    "413": "Corps trop long (`corps_trop_long`).",
    "429": "Trop de requêtes (`trop_de_requetes`) : voir l'en-tête Retry-After.",
    "500": "Erreur interne du nœud (`erreur_interne`), sans détail.",
    "503": "Base de données momentanément indisponible (`base_indisponible`) : réessayer.",
}
_NACKS: Final = {
    "400": "NACK : requête invalide (code d'erreur et chemin JSON fautif).",
    "401": "NACK : signature absente, expirée ou fausse.",
    "404": "NACK : introuvable.",
    "409": "NACK : refusé dans l'état actuel.",
    "413": "NACK : corps trop long.",
    "429": "NACK : trop de requêtes, voir Retry-After.",
    "500": "NACK : erreur interne, sans détail.",
}
# Refusals in the state of things, by role and (method, path): 409.
_CONFLICTS: Final = {
    "seller": (
        (
            "put|patch|delete",
            r"/api/providers/\{provider_id\}/(products|locations|fulfillment-options)/.+",
        ),
        ("post", r"/api/providers/\{provider_id\}/products/(import|\{sku\}/stock/adjustments)"),
        ("post", r"/api/providers/\{provider_id\}/orders/\{order_id\}/(fulfillment|cancel)"),
    ),
    "buyer": (
        ("post", r"/api/orders(/\{order_id\}/\{action\})?"),
        ("post|patch", r"/api/carts/\{cart_id\}(/(lines|checkout|retry|preview))?"),
        ("delete", r"/api/carts/\{cart_id\}/lines/\{line_id\}"),
        ("delete", r"/api/sites/\{site_id\}"),
    ),
    "registry": (("post", r"/admin/.+"),),
}
_SECURITY_SCHEMES: Final = {
    "SignatureBeckn": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": 'Signature BECKN-006 de l\'expéditeur (`Signature keyId="abonné|clé|ed25519",…`) '
        "sur le condensé BLAKE2b-512 du corps exact.",
    },
    "SignatureOperateur": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "Signature BECKN-006 d'une clé d'opérateur listée dans les réglages du "
        "registre, sur le corps exact (le corps vide pour GET) ; chaque signature ne sert "
        "qu'une fois pour une écriture.",
    },
}


def _component_schemas(model: Any) -> dict[str, Any]:
    """``model``'s JSON schema and those it refers to, as OpenAPI components."""
    schema = model.model_json_schema(ref_template=_REF, mode="serialization")
    found = dict(schema.pop("$defs", {}))
    found[schema.get("title", model.__name__)] = schema
    return found


def _set_answer(operation: dict[str, Any], status: str, description: str, ref: str) -> None:
    """``operation``'s ``status`` answers ``ref`` (an example already there is kept)."""
    response = operation.setdefault("responses", {}).setdefault(status, {})
    if not response.get("description") or response["description"] in {"Erreur", "OK"}:
        response["description"] = description
    media = response.setdefault("content", {}).setdefault("application/json", {})
    if media.get("schema") in (None, {}, {"type": "object"}):
        media["schema"] = {"$ref": ref}


def _uses(document: dict[str, Any], name: str) -> bool:
    return f'"{_REF.format(model=name)}"' in json.dumps(document)


def _declare_refusals(role: str, document: dict[str, Any]) -> None:
    """Every operation lists its refusals with their schema (the client API's
    ``ErrorAnswer``, the protocol's NACK ``AckResponse``), and the authentication it
    needs; FastAPI's 422, never answered, is gone."""
    from reseau_poles.participant.api import ErrorAnswer
    from reseau_poles.protocol.models import AckResponse

    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(_component_schemas(AckResponse))
    nack = _REF.format(model="AckResponse")
    error = _REF.format(model="ErrorAnswer")
    conflicts = _CONFLICTS.get(role, ())
    needs: set[str] = set()
    for path, method, operation in _operations(document):
        responses = operation.setdefault("responses", {})
        if "HTTPValidationError" in json.dumps(responses.get("422", {})):
            del responses["422"]
        statuses = {"400", "500"}
        if "{" in path:
            statuses.add("404")
        if "requestBody" in operation or method in {"post", "put", "patch"}:
            statuses.add("413")
        if any(re.fullmatch(m, method) and re.fullmatch(p, path) for m, p in conflicts):
            statuses.add("409")
        if path.startswith(_API + "/"):
            statuses |= {"401", "429", "503"}
            if path.startswith("/api/providers/{provider_id}"):
                statuses.add("403")
            for status in sorted(statuses):
                _set_answer(operation, status, _API_ERRORS[status], error)
            continue
        if role == "registry" and path.startswith("/admin/"):
            statuses.add("401")
            operation["security"] = [{"SignatureOperateur": []}]
            needs.add("SignatureOperateur")
        elif any(
            p.get("in") == "header" and p.get("name") == "Authorization"
            for p in operation.get("parameters", [])
        ):  # a signed protocol call
            statuses |= {"401", "429"}
            operation["security"] = [{"SignatureBeckn": []}]
            needs.add("SignatureBeckn")
        elif method == "get" and "{" not in path:
            continue  # health, metrics, keys: nothing to refuse
        for status in sorted(statuses | {s for s in responses if s >= "400"}):
            _set_answer(operation, status, _NACKS.get(status, "NACK"), nack)
    if any(p.startswith(_API + "/") for p in document.get("paths", {})):
        schemas.update(_component_schemas(ErrorAnswer))
    for name in _FASTAPI_422:
        if not _uses(document, name):
            schemas.pop(name, None)
    if not _uses(document, "AckResponse"):
        for name in _component_schemas(AckResponse):
            schemas.pop(name, None)
    if needs:
        security = document["components"].setdefault("securitySchemes", {})
        security.update({name: _SECURITY_SCHEMES[name] for name in sorted(needs)})


def placed_examples(role: str, document: dict[str, Any]) -> list[Example]:
    """The examples that found an operation of ``document``."""
    return [
        example
        for path, method, _operation in _operations(document)
        for example in EXAMPLES
        if example.matches(role, method, path)
    ]
