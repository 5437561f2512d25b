"""Prometheus text exposition (format 0.0.4), written by hand: counters, gauges, one
histogram. One process, one event loop: no locks needed."""

from __future__ import annotations

import os
import resource
from collections import defaultdict

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

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

Labels = tuple[tuple[str, str], ...]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in labels) + "}"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


class Metrics:
    def __init__(self) -> None:
        self._values: dict[str, dict[Labels, float]] = defaultdict(dict)
        self._histogram = [0] * (len(BUCKETS) + 1)
        self._histogram_sum = 0.0

    def inc(self, name: str, amount: float = 1, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        series = self._values[name]
        series[key] = series.get(key, 0) + amount

    def set(self, name: str, value: float, **labels: str) -> None:
        self._values[name][tuple(sorted(labels.items()))] = value

    def value(self, name: str, **labels: str) -> float:
        return self._values.get(name, {}).get(tuple(sorted(labels.items())), 0)

    def observe_fanout(self, seconds: float) -> None:
        self._histogram_sum += seconds
        for index, bound in enumerate(BUCKETS):
            if seconds <= bound:
                self._histogram[index] += 1
                return
        self._histogram[-1] += 1

    def render(self) -> str:
        self.set("gateway_process_resident_memory_bytes", resident_memory())
        self.set("gateway_process_peak_resident_memory_bytes", peak_resident_memory())
        lines: list[str] = []
        for name in sorted(self._values):
            kind, text = _HELP.get(name, ("untyped", name))
            lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]
            for labels, value in sorted(self._values[name].items()):
                lines.append(f"{name}{_labels(labels)} {_number(value)}")
        name = "gateway_fanout_seconds"
        kind, text = _HELP[name]
        lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]
        cumulative = 0
        for bound, count in zip(BUCKETS, self._histogram, strict=False):
            cumulative += count
            lines.append(f'{name}_bucket{{le="{bound}"}} {cumulative}')
        cumulative += self._histogram[-1]
        lines.append(f'{name}_bucket{{le="+Inf"}} {cumulative}')
        lines.append(f"{name}_sum {_number(round(self._histogram_sum, 6))}")
        lines.append(f"{name}_count {cumulative}")
        return "\n".join(lines) + "\n"


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
