"""The report's charts, drawn on the server as SVG (no JavaScript): the geometry is computed
here, the template writes the elements (``portail/_charts.html``).

* :func:`bar_chart` — horizontal bars, one per row (spend by region of origin): long labels
  stay readable, the amount at the end of each bar;
* :func:`share_bars` — one bar per share, 0 to 100 % (certified shares, Québec origin);
* :func:`donut` — one share of a whole as a ring (``pathLength="100"``: the arc is the
  percentage itself, no trigonometry).

Amounts stay Decimals (the template formats them); only lengths on the drawing are floats.
Every chart also has its numbers in a table beside it (the page), and each bar a ``<title>``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

WIDTH = 720
LABEL_WIDTH = 230
VALUE_WIDTH = 110
ROW_HEIGHT = 36
BAR_HEIGHT = 22
TOP = 8


def percent(share: str | Decimal | None) -> Decimal | None:
    """A share (``"0.4235"``) as a percentage with one decimal (``42.4``); ``None`` stays."""
    if share is None:
        return None
    try:
        value = Decimal(str(share)) * 100
    except InvalidOperation:
        return None
    if not value.is_finite():
        return None
    return min(max(value, Decimal(0)), Decimal(100)).quantize(Decimal("0.1"), ROUND_HALF_UP)


@dataclass(frozen=True)
class Bar:
    label: str
    amount: Decimal
    percent: Decimal | None
    y: int
    width: float  # the bar's length on the drawing


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    width: int
    height: int
    label_width: int
    bar_height: int
    plot_width: int


def bar_chart(rows: Sequence[tuple[str, Decimal, str | None]]) -> BarChart:
    """Bars for ``(label, amount, share)`` rows, the largest amount the full width."""
    plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    largest = max((amount for _, amount, _ in rows), default=Decimal(0))
    bars = []
    for index, (label, amount, share) in enumerate(rows):
        length = float(amount / largest) * plot if largest > 0 and amount > 0 else 0.0
        bars.append(
            Bar(label, amount, percent(share), TOP + index * ROW_HEIGHT, round(max(length, 0), 1))
        )
    height = TOP * 2 + max(len(rows), 1) * ROW_HEIGHT
    return BarChart(bars, WIDTH, height, LABEL_WIDTH, BAR_HEIGHT, plot)


@dataclass(frozen=True)
class ShareBar:
    key: str  # what the bar is (a catalogue key's last part, a CSS colour's name)
    amount: Decimal
    percent: Decimal | None
    y: int
    width: float


def share_bars(rows: Sequence[tuple[str, Decimal, str | None]]) -> BarChart:
    """0–100 % bars for ``(key, amount, share)`` rows (``label`` of each bar: its key)."""
    plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    bars = []
    for index, (key, amount, share) in enumerate(rows):
        shown = percent(share)
        length = float(shown) / 100 * plot if shown is not None else 0.0
        bars.append(Bar(key, amount, shown, TOP + index * ROW_HEIGHT, round(length, 1)))
    height = TOP * 2 + max(len(rows), 1) * ROW_HEIGHT
    return BarChart(bars, WIDTH, height, LABEL_WIDTH, BAR_HEIGHT, plot)


@dataclass(frozen=True)
class Donut:
    percent: Decimal | None
    dash: str  # stroke-dasharray on a circle of pathLength 100
    rest: Decimal | None


def donut(share: str | Decimal | None) -> Donut:
    shown = percent(share)
    if shown is None:
        return Donut(None, "0 100", None)
    return Donut(shown, f"{shown} {Decimal(100) - shown}", Decimal(100) - shown)
