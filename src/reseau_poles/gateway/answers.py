"""What the gateway's own routes answer (documentation; see :mod:`reseau_poles.participant.answers`).
The statistics of a search are :class:`.stats.SearchRecord` as JSON."""

from __future__ import annotations

from pydantic import Field

from reseau_poles.participant.answers import Answer, KeyExpiry


class GatewayHealth(Answer):
    """``GET /health``."""

    status: str = Field(examples=["ok"])
    subscriber_id: str
    key_id: str
    uptime_s: float = Field(description="Secondes depuis le démarrage du processus.")
    searches_in_flight: int
    seller_calls_in_flight: int
    searches_kept: int = Field(description="Recherches gardées en mémoire (statistiques).")
    key: KeyExpiry


class SellerOutcome(Answer):
    """What one seller node answered a search relayed to it."""

    subscriber_id: str
    url: str
    status: str = Field(description="`ACK`, `NACK`, `ERROR` ou `TIMEOUT`.")
    http_status: int | None
    latency_ms: float
    attempts: int
    error_code: str | None
    error: str | None


class SearchSummary(Answer):
    """A search the gateway relayed: who was targeted, who ACKed, NACKed, failed, how long."""

    message_id: str
    transaction_id: str | None
    bap_id: str
    domain: str
    city: str
    bpp_id: str | None = Field(description="Le nœud vendeur visé, quand la recherche en nomme un.")
    received_at: str = Field(description="Réception (UTC, millisecondes).")
    state: str = Field(description="`running`, `done` ou `failed` (pas de recherche au registre).")
    targeted: int
    acked: int
    nacked: int
    failed: int
    timed_out: int
    retried: int
    lookup_ms: float
    latency_ms: float = Field(description="De l'ACK à la réponse du dernier vendeur.")
    error: str | None


class SearchStatistics(SearchSummary):
    """A search, with each seller node's outcome."""

    sellers: list[SellerOutcome]
