"""The gateway's Prometheus series (rendered by the frame's :mod:`reseau_poles.participant.metrics`):
counters, gauges, the fan-out histogram, and the process's memory."""

from __future__ import annotations

import os
import resource

from reseau_poles.participant.metrics import CONTENT_TYPE
from reseau_poles.participant.metrics import Metrics as PrometheusMetrics

__all__ = ["BUCKETS", "CONTENT_TYPE", "Metrics", "peak_resident_memory", "resident_memory"]

_HELP = {
    "gateway_searches_total": ("counter", "Recherches reçues, par résultat (ack, refus)"),
    "gateway_refusals_total": ("counter", "Recherches refusées, par code d'erreur"),
    "gateway_seller_calls_total": ("counter", "Appels aux nœuds vendeurs, par résultat"),
    "gateway_seller_retries_total": ("counter", "Nouvelles tentatives après échec de connexion"),
    "gateway_fanout_targets_total": ("counter", "Nœuds vendeurs visés, toutes recherches"),
    "gateway_lookup_errors_total": ("counter", "Recherches sans réponse du registre"),
    "gateway_seller_calls_in_flight": ("gauge", "Appels aux vendeurs en cours"),
    "gateway_searches_in_flight": ("gauge", "Diffusions en cours"),
    "gateway_lookup_cache_total": ("counter", "Cache du registre : hit ou miss"),
    "gateway_process_resident_memory_bytes": ("gauge", "Mémoire résidente du processus"),
    "gateway_process_peak_resident_memory_bytes": ("gauge", "Pic de mémoire résidente"),
    "gateway_fanout_seconds": (
        "histogram",
        "Durée d'une diffusion : de l'ACK à la dernière réponse des vendeurs",
    ),
}

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

FANOUT = "gateway_fanout_seconds"


class Metrics(PrometheusMetrics):
    def __init__(self) -> None:
        super().__init__(_HELP, histograms={FANOUT: BUCKETS})

    def observe_fanout(self, seconds: float) -> None:
        self.observe(FANOUT, seconds)

    def render(self) -> str:
        self.set("gateway_process_resident_memory_bytes", resident_memory())
        self.set("gateway_process_peak_resident_memory_bytes", peak_resident_memory())
        return super().render()


def resident_memory() -> int:
    """Current RSS in bytes (Linux ``/proc``; the peak elsewhere)."""
    try:
        with open(f"/proc/{os.getpid()}/statm", encoding="ascii") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return peak_resident_memory()


def peak_resident_memory() -> int:
    """Peak RSS in bytes (``ru_maxrss`` is kilobytes on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
