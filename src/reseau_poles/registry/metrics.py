"""The registry's Prometheus series (``GET /metrics``), rendered by the one renderer every role
uses (:mod:`reseau_poles.participant.metrics`)."""

from __future__ import annotations

from typing import Final

from reseau_poles.participant.metrics import CONTENT_TYPE, Metrics

__all__ = ["CONTENT_TYPE", "HELP", "Metrics", "registry_metrics"]

HELP: Final = {
    "registry_lookups_total": ("counter", "Recherches (lookup) servies"),
    "registry_lookup_records_total": ("counter", "Enregistrements renvoyés par les recherches"),
    "registry_lookup_cache_total": (
        "counter",
        "Réponses de recherche servies depuis le cache (hit) ou calculées (miss)",
    ),
    "registry_subscriptions_total": ("counter", "Inscriptions, par résultat"),
    "registry_admin_actions_total": ("counter", "Actions de l'opérateur, par action"),
    "registry_admin_auth_failures_total": ("counter", "Requêtes /admin refusées (signature)"),
    "registry_snapshot_reloads_total": ("counter", "Rechargements de l'instantané de recherche"),
    "registry_snapshot_revision": ("gauge", "Révision de la base vue par l'instantané"),
    "registry_snapshot_records": ("gauge", "Clés valides dans l'instantané de recherche"),
    "registry_subscribers": ("gauge", "Participants, par statut"),
}


def registry_metrics() -> Metrics:
    """The registry's series, named once."""
    return Metrics(HELP)
