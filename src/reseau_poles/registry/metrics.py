"""A few Prometheus counters, written by hand (text exposition format 0.0.4)."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_HELP = {
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

Labels = tuple[tuple[str, str], ...]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class Metrics:
    def __init__(self) -> None:
        self._values: dict[str, dict[Labels, float]] = defaultdict(dict)
        self._lock = threading.Lock()

    def inc(self, name: str, amount: float = 1, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            series = self._values[name]
            series[key] = series.get(key, 0) + amount

    def set(self, name: str, value: float, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            self._values[name][key] = value

    def value(self, name: str, **labels: str) -> float:
        return self._values.get(name, {}).get(tuple(sorted(labels.items())), 0)

    def render(self) -> str:
        lines: list[str] = []
        with self._lock:
            snapshot = {name: dict(series) for name, series in self._values.items()}
        for name in sorted(snapshot):
            kind, text = _HELP.get(name, ("untyped", name))
            lines.append(f"# HELP {name} {text}")
            lines.append(f"# TYPE {name} {kind}")
            lines.extend(_series(name, snapshot[name].items()))
        return "\n".join(lines) + "\n"


def _series(name: str, items: Iterable[tuple[Labels, float]]) -> Iterable[str]:
    for labels, value in sorted(items):
        rendered = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
        number = int(value) if float(value).is_integer() else value
        yield f"{name}{{{rendered}}} {number}" if rendered else f"{name} {number}"
