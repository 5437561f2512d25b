"""TPS/TVQ against hand-computed figures, Decimal money, units and conversions."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reseau_poles.protocol.errors import ErrorCode, ProtocolError
from reseau_poles.protocol.profile import (
    IncompatibleUnitsError,
    LineTaxes,
    TaxableLine,
    Unit,
    check_minimum_quantity,
    convert,
    format_amount,
    format_cad,
    line_amount,
    line_taxes,
    measure,
    order_taxes,
    parse_measure,
    price_per,
    round_cents,
    to_decimal,
)

D = Decimal


# --- taxes, by hand ----------------------------------------------------------------------


def test_one_hundred_dollars_taxable() -> None:
    line = line_taxes("100.00", taxable=True)
    assert (line.tps, line.tvq, line.total) == (D("5.00"), D("9.98"), D("114.98"))


def test_zero_rated_line_is_untaxed() -> None:
    line = line_taxes(D("42.50"), taxable=False)
    assert (line.tps, line.tvq, line.total) == (D("0.00"), D("0.00"), D("42.50"))


@pytest.mark.parametrize(
    ("amount", "tps", "tvq"),
    [
        ("10.00", "0.50", "1.00"),  # 0.9975 → 1.00
        ("4.99", "0.25", "0.50"),  # 0.2495 → 0.25 (half up), 0.4977… → 0.50
        ("0.10", "0.01", "0.01"),  # 0.005 → 0.01, 0.009975 → 0.01
        ("0.05", "0.00", "0.00"),  # 0.0025 → 0.00, 0.0049875 → 0.00
        ("19.99", "1.00", "1.99"),  # 0.9995 → 1.00, 1.9940… → 1.99
        ("1234.56", "61.73", "123.15"),  # 61.728 → 61.73, 123.1474… → 123.15
        ("-9.99", "-0.50", "-1.00"),  # a credit: symmetric rounding
    ],
)
def test_hand_computed_lines(amount: str, tps: str, tvq: str) -> None:
    line = line_taxes(amount, taxable=True)
    assert (line.tps, line.tvq) == (D(tps), D(tvq))


def test_an_order_sums_per_line_rounded_taxes() -> None:
    # Three taxable muffins at 3.33 $ and a zero-rated basket of vegetables.
    summary = order_taxes(
        [TaxableLine("3.33", True), TaxableLine("3.33", True), ("3.33", True), ("25.00", False)]
    )
    # per line: TPS 0.1665 → 0.17, TVQ 0.3321675 → 0.33; three lines.
    assert summary.tps == D("0.51")
    assert summary.tvq == D("0.99")
    assert summary.subtotal == D("34.99")
    assert summary.taxable_subtotal == D("9.99")
    assert summary.total == D("36.49")
    # Per-invoice rounding would give 0.50 of TPS: we round per line, on purpose.
    assert round_cents(D("9.99") * D("0.05")) == D("0.50")


def test_order_taxes_accepts_already_computed_lines_and_nothing() -> None:
    line = line_taxes("100", taxable=True)
    assert order_taxes([line]).lines == (line,)
    empty = order_taxes([])
    assert (empty.subtotal, empty.tps, empty.tvq, empty.total) == (D(0), D(0), D(0), D(0))


def test_line_amount_rounds_to_the_cent() -> None:
    assert line_amount("12.99", "0.333") == D("4.33")
    assert line_amount("2.5", 3) == D("7.50")


@given(
    st.decimals(min_value=D("-10000"), max_value=D("10000"), places=2),
    st.booleans(),
)
def test_line_taxes_properties(amount: Decimal, taxable: bool) -> None:
    line = line_taxes(amount, taxable=taxable)
    assert isinstance(line, LineTaxes)
    assert line.total == line.amount + line.tps + line.tvq
    for value in (line.tps, line.tvq):
        assert value == value.quantize(D("0.01"))
    if taxable:
        assert abs(line.tps - amount * D("0.05")) <= D("0.005")
        assert abs(line.tvq - amount * D("0.09975")) <= D("0.005")
    else:
        assert line.tps == line.tvq == 0


# --- money -------------------------------------------------------------------------------


def test_to_decimal_refuses_floats_and_garbage() -> None:
    assert to_decimal("12,99") == D("12.99")
    assert to_decimal(3) == D(3)
    for bad in (0.1, True, "douze", "NaN", "Infinity", None, [1]):
        with pytest.raises(ProtocolError) as caught:
            to_decimal(bad, path="message.order.quote.price.value")
        assert caught.value.path == "message.order.quote.price.value"


def test_money_formats() -> None:
    assert format_amount("114.975") == "114.98"
    assert format_amount(3) == "3.00"
    assert format_cad("1234.5") == "1\u202f234,50\u00a0$"
    assert format_cad("-0.5") == "-0,50\u00a0$"
    assert format_cad("1234567") == "1\u202f234\u202f567,00\u00a0$"


# --- units -------------------------------------------------------------------------------


def test_units_and_french_labels() -> None:
    assert [u.value for u in Unit] == [
        "kg",
        "g",
        "l",
        "ml",
        "unite",
        "douzaine",
        "botte",
        "caisse",
    ]
    assert Unit.UNITE.label == "unité"
    assert Unit.ML.symbol == "mL"
    assert Unit.KG.plural() == "kilogrammes"
    assert Unit.parse("Kilogramme") is Unit.KG
    assert Unit.parse("unité") is Unit.UNITE


@pytest.mark.parametrize(
    ("quantity", "source", "target", "expected"),
    [
        ("250", Unit.G, Unit.KG, "0.25"),
        ("1.5", Unit.KG, Unit.G, "1500"),
        ("750", Unit.ML, Unit.L, "0.75"),
        ("2", Unit.L, Unit.ML, "2000"),
        ("2", Unit.DOUZAINE, Unit.UNITE, "24"),
        ("6", Unit.UNITE, Unit.DOUZAINE, "0.5"),
        ("3", Unit.BOTTE, Unit.BOTTE, "3"),
    ],
)
def test_conversions(quantity: str, source: Unit, target: Unit, expected: str) -> None:
    assert convert(quantity, source, target) == D(expected)


@pytest.mark.parametrize(
    ("source", "target"), [(Unit.KG, Unit.L), (Unit.BOTTE, Unit.UNITE), (Unit.CAISSE, Unit.KG)]
)
def test_no_conversion_across_dimensions(source: Unit, target: Unit) -> None:
    with pytest.raises(IncompatibleUnitsError):
        convert(1, source, target)


def test_price_per_unit_comparisons() -> None:
    assert price_per("3.00", 250, Unit.G, Unit.KG) == D("12")
    assert price_per("3.00", 250, Unit.G) == D("12")  # base unit by default
    assert price_per("4.50", 500, Unit.ML) == D("9")
    assert price_per("6.00", 1, Unit.DOUZAINE, Unit.UNITE) == D("0.5")
    assert price_per("3.00", 250, Unit.G) < price_per("12.50", 1, Unit.KG)
    with pytest.raises(ValueError):
        price_per("3.00", 0, Unit.G)


def test_measure_round_trip() -> None:
    assert measure("2.50", Unit.KG) == {"unit": "kg", "value": "2.5"}
    assert measure(100, Unit.G) == {"unit": "g", "value": "100"}
    assert parse_measure({"unit": "kg", "value": "2.5"}) == (D("2.5"), Unit.KG)


def test_parse_measure_paths() -> None:
    base = "message.order.items[0].quantity.selected.measure"
    with pytest.raises(ProtocolError) as caught:
        parse_measure({"unit": "livre", "value": "1"}, path=base)
    assert caught.value.path == f"{base}.unit"
    with pytest.raises(ProtocolError) as caught:
        parse_measure({"unit": "kg", "value": "-1"}, path=base)
    assert caught.value.path == f"{base}.value"
    with pytest.raises(ProtocolError) as caught:
        parse_measure("2 kg", path=base)
    assert caught.value.path == base


def test_minimum_order_quantity() -> None:
    check_minimum_quantity(1, Unit.KG, 500, Unit.G)
    check_minimum_quantity("0.5", Unit.KG, 500, Unit.G)
    with pytest.raises(ProtocolError) as caught:
        check_minimum_quantity(
            400,
            Unit.G,
            1,
            Unit.KG,
            item_id="carottes-vrac",
            path="message.order.items[2].quantity",
        )
    error = caught.value
    assert error.code is ErrorCode.BELOW_MINIMUM_ORDER
    assert error.path == "message.order.items[2].quantity"
    assert "minimum 1 kg" in error.message and "400 g" in error.message
