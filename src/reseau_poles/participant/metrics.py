"""Prometheus text exposition (format 0.0.4), written by hand, for every role that publishes
``/metrics``: counters and gauges by labels, histograms with fixed buckets.

A role names its series once (``help``: name → (type, text)) and its histograms' buckets;
:meth:`Metrics.render` writes every series sorted by name, then each histogram (cumulative
buckets, ``+Inf``, ``_sum``, ``_count``), even before its first observation. Writes and the
rendering's snapshot take one lock: a role may count from its threads.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Labels = tuple[tuple[str, str], ...]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in labels) + "}"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


class _Histogram:
    def __init__(self, buckets: Sequence[float]) -> None:
        self.buckets = tuple(buckets)
        self.counts = [0] * (len(self.buckets) + 1)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.sum += value
        for index, bound in enumerate(self.buckets):
            if value <= bound:
                self.counts[index] += 1
                return
        self.counts[-1] += 1


class Metrics:
    """A role's series. ``help``: each name's Prometheus type and help text (a name not
    there renders as ``untyped``); ``histograms``: each histogram's bucket bounds."""

    def __init__(
        self,
        help: Mapping[str, tuple[str, str]],
        histograms: Mapping[str, Sequence[float]] | None = None,
    ) -> None:
        self._help = dict(help)
        self._values: dict[str, dict[Labels, float]] = defaultdict(dict)
        self._histograms = {name: _Histogram(b) for name, b in (histograms or {}).items()}
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

    def observe(self, name: str, value: float) -> None:
        """One observation of histogram ``name`` (declared in ``histograms``)."""
        with self._lock:
            self._histograms[name].observe(value)

    def render(self) -> str:
        with self._lock:
            values = {name: dict(series) for name, series in self._values.items()}
            histograms = {
                name: (h.buckets, list(h.counts), h.sum) for name, h in self._histograms.items()
            }
        lines: list[str] = []
        for name in sorted(values):
            lines += self._head(name)
            lines += _series(name, values[name].items())
        for name, (buckets, counts, total) in histograms.items():
            lines += self._head(name)
            cumulative = 0
            for bound, count in zip(buckets, counts, strict=False):
                cumulative += count
                lines.append(f'{name}_bucket{{le="{bound}"}} {cumulative}')
            cumulative += counts[-1]
            lines.append(f'{name}_bucket{{le="+Inf"}} {cumulative}')
            lines.append(f"{name}_sum {_number(round(total, 6))}")
            lines.append(f"{name}_count {cumulative}")
        return "\n".join(lines) + "\n"

    def _head(self, name: str) -> list[str]:
        kind, text = self._help.get(name, ("untyped", name))
        return [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]


def _series(name: str, items: Iterable[tuple[Labels, float]]) -> Iterable[str]:
    for labels, value in sorted(items):
        yield f"{name}{_labels(labels)} {_number(value)}"
