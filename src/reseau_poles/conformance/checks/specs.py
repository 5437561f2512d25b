"""What the conformance tester checks: one :class:`~..report.CheckSpec` per check (its id and
its title in French and English), and the lists a seller and a buyer node are checked against."""

from __future__ import annotations

from ..report import CheckSpec


def _spec(check_id: str, fr: str, en: str) -> CheckSpec:
    return CheckSpec(check_id, fr, en)


REGISTRY_ENTRY = _spec(
    "registre.inscription",
    "Inscription au registre (type, adresse, clés, validité)",
    "Registry entry (type, address, keys, validity)",
)
REGISTRY_KEY = _spec(
    "registre.cle",
    "La clé inscrite au registre est celle qui signe",
    "The key in the registry is the one the node signs with",
)
CHALLENGE = _spec(
    "defi.on_subscribe",
    "Défi /on_subscribe ouvert (boîte scellée pour la clé X25519 ; schéma d'ONDC : "
    "l'inscription au registre)",
    "/on_subscribe challenge opened (sealed box to the X25519 key; ONDC's scheme: the "
    "registry's subscription)",
)
ACK_SHAPE = _spec(
    "ack.forme",
    "Forme et codes des ACK et NACK",
    "ACK and NACK shapes and codes",
)
CALLBACK_SIGNATURE = _spec(
    "rappels.signature",
    "Signature BECKN-006 de chaque rappel",
    "BECKN-006 signature on every callback",
)
CALLBACK_TIMING = _spec(
    "rappels.delai",
    "Chaque rappel arrive à bap_uri dans le délai (ttl)",
    "Every callback reaches bap_uri within the ttl",
)
CALLBACK_CONTEXT = _spec(
    "rappels.contexte",
    "Contexte des rappels (action, transaction, message, participants)",
    "Callback context (action, transaction, message, participants)",
)
SCHEMA = _spec(
    "schema.messages",
    "Chaque message reçu est valide selon les schémas",
    "Every message received is valid against the schemas",
)
CATALOG_PROFILE = _spec(
    "profil.catalogue",
    "Catalogue : forme et étiquettes du profil québécois",
    "Catalog: shape and Québec profile tags",
)
QUOTE = _spec(
    "devis.taxes",
    "Devis : montants des lignes, TPS, TVQ, articles détaxés, total",
    "Quote: line amounts, GST (TPS), QST (TVQ), zero-rated items, total",
)
LIFECYCLE = _spec(
    "cycle.commande",
    "Cycle de vie : select → init → confirm → status → cancel",
    "Life cycle: select → init → confirm → status → cancel",
)
REPLAY = _spec(
    "refus.rejeu",
    "Un message rejoué est refusé (NACK)",
    "A replayed message is refused (NACK)",
)
EXPIRED = _spec(
    "refus.signature_expiree",
    "Une signature expirée est refusée (NACK)",
    "An expired signature is refused (NACK)",
)
FORGED = _spec(
    "refus.signature_invalide",
    "Un corps modifié après signature est refusé (NACK)",
    "A body changed after signing is refused (NACK)",
)
BUYER_REQUEST = _spec(
    "requetes.acheteur",
    "Requête search du nœud acheteur : signée, contexte juste",
    "The buyer node's search request: signed, right context",
)
CALLBACK_ACCEPTED = _spec(
    "rappel.accepte",
    "Un rappel valide de sa transaction est accepté (ACK)",
    "A valid callback for its transaction is accepted (ACK)",
)
UNKNOWN_TRANSACTION = _spec(
    "refus.transaction_inconnue",
    "Un rappel d'une transaction inconnue est refusé (NACK)",
    "A callback for an unknown transaction is refused (NACK)",
)

SELLER_CHECKS = (
    REGISTRY_ENTRY,
    REGISTRY_KEY,
    CHALLENGE,
    ACK_SHAPE,
    CALLBACK_SIGNATURE,
    CALLBACK_TIMING,
    CALLBACK_CONTEXT,
    SCHEMA,
    CATALOG_PROFILE,
    QUOTE,
    LIFECYCLE,
    REPLAY,
    EXPIRED,
    FORGED,
)
BUYER_CHECKS = (
    REGISTRY_ENTRY,
    REGISTRY_KEY,
    CHALLENGE,
    BUYER_REQUEST,
    SCHEMA,
    ACK_SHAPE,
    CALLBACK_ACCEPTED,
    UNKNOWN_TRANSACTION,
    REPLAY,
    EXPIRED,
    FORGED,
)
