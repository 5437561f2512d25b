"""The checks without I/O: a quote made by the profile's own arithmetic passes, a cent off is
caught with its path; a bad signature is explained with the signing string and digest."""

from __future__ import annotations

import json
import time
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from reseau_poles.conformance import checks as c
from reseau_poles.conformance.checks import CatalogItem, QuotedLine, Received
from reseau_poles.conformance.report import Finding, Outcome, render_text
from reseau_poles.conformance.runner import Collector
from reseau_poles.protocol import signing
from reseau_poles.protocol.keys import SubscriberKeys
from reseau_poles.protocol.profile import TPS_LABEL, TVQ_LABEL, format_amount
from reseau_poles.protocol.profile.taxes import line_amount, line_taxes, order_taxes

prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999.99"), places=2)
lines_strategy = st.lists(
    st.tuples(prices, st.integers(1, 50), st.booleans()), min_size=1, max_size=5
)


def _quote(lines: list[QuotedLine], *, tps_off: Decimal = Decimal(0)) -> dict:
    taxed = [
        line_taxes(line_amount(q.item.price, q.count), taxable=bool(q.item.taxable)) for q in lines
    ]
    summary = order_taxes(taxed)
    breakup = [
        {
            "item": {"id": q.item.item_id},
            "title": q.item.item_id,
            "price": {"currency": "CAD", "value": format_amount(t.amount)},
        }
        for q, t in zip(lines, taxed, strict=True)
    ]
    tps = summary.tps + tps_off
    breakup.append({"title": TPS_LABEL, "price": {"currency": "CAD", "value": format_amount(tps)}})
    breakup.append(
        {"title": TVQ_LABEL, "price": {"currency": "CAD", "value": format_amount(summary.tvq)}}
    )
    total = summary.total + tps_off
    quote = {"price": {"currency": "CAD", "value": format_amount(total)}, "breakup": breakup}
    return {"message": {"order": {"quote": quote}}}


def _lines(raw: list[tuple[Decimal, int, bool]]) -> list[QuotedLine]:
    return [
        QuotedLine(CatalogItem("pole", f"article-{i}", price, taxable, 1, None, ()), count)
        for i, (price, count, taxable) in enumerate(raw)
    ]


@settings(max_examples=60, deadline=None)
@given(lines_strategy)
def test_a_quote_by_the_profile_arithmetic_passes(raw: list[tuple[Decimal, int, bool]]) -> None:
    lines = _lines(raw)
    assert c.quote_findings(_quote(lines), lines) == []


@settings(max_examples=40, deadline=None)
@given(lines_strategy.filter(lambda raw: any(taxable for _p, _n, taxable in raw)))
def test_a_tps_one_cent_off_is_caught(raw: list[tuple[Decimal, int, bool]]) -> None:
    lines = _lines(raw)
    findings = c.quote_findings(_quote(lines, tps_off=Decimal("0.01")), lines)
    assert [f.path for f in findings] == ["message.order.quote.breakup[title=TPS]"]


def test_a_zero_rated_item_taxed_is_caught() -> None:
    """The catalog says zero-rated; the quote taxes it anyway."""
    lines = _lines([(Decimal("18.75"), 2, False)])
    wrongly = _lines([(Decimal("18.75"), 2, True)])
    findings = c.quote_findings(_quote(wrongly), lines)
    assert {f.path for f in findings} == {
        "message.order.quote.breakup[title=TPS]",
        "message.order.quote.breakup[title=TVQ]",
    }
    assert findings[0].expected == "0.00" and findings[0].got == "1.88"


def test_a_line_that_is_not_price_times_count_is_caught() -> None:
    lines = _lines([(Decimal("3.49"), 4, True)])
    payload = _quote(lines)
    payload["message"]["order"]["quote"]["breakup"][0]["price"]["value"] = "13.95"
    findings = c.quote_findings(payload, lines)
    first = findings[0]
    assert first.path == "message.order.quote.breakup[0].price.value"
    assert (first.expected, first.got) == ("13.96", "13.95")


def test_a_signature_by_another_key_names_the_key_and_shows_the_signing_string() -> None:
    keys = SubscriberKeys.generate("vendeur.example", "k1")
    impostor = SubscriberKeys.generate("vendeur.example", "k1")
    body = json.dumps({"context": {"action": "on_select", "message_id": "m-1"}}).encode()
    created = int(time.time())
    header = signing.Signer("vendeur.example", "k1", impostor.signing).sign(
        body, created=created, expires=created + 30
    )
    received = Received("on_select", body, {"Authorization": header}, time.time())
    key_findings, findings = c.signature_findings(
        received, {"k1": keys.signing.public_key_b64}, "vendeur.example"
    )
    assert [f.path for f in key_findings] == ["headers.Authorization"]
    (finding,) = findings
    assert finding.message == "on_select m-1"
    assert finding.signing_string == signing.signing_string(
        created, created + 30, signing.digest(body)
    )
    assert finding.digest == f"BLAKE-512={signing.digest(body)}"
    text = render_text(_report_with(finding), "fr")
    assert "chaîne signée (recalculée par le testeur) :" in text
    assert f"        (created): {created}" in text
    # The right key passes, and a key id the registry does not know is named.
    good = signing.Signer("vendeur.example", "k1", keys.signing).sign(body)
    received = Received("on_select", body, {"authorization": good}, time.time())
    assert c.signature_findings(
        received, {"k1": keys.signing.public_key_b64}, "vendeur.example"
    ) == ([], [])
    unknown, _ = c.signature_findings(
        received, {"k2": keys.signing.public_key_b64}, "vendeur.example"
    )
    assert unknown[0].got == "k1" and unknown[0].expected == ["k2"]


def _report_with(finding: Finding):
    out = Collector([c.CALLBACK_SIGNATURE, c.QUOTE])
    out.add(c.CALLBACK_SIGNATURE, [finding])
    report = out.report(role="seller", target="vendeur.example", tester="t", registry_url="r")
    assert report.result("devis.taxes").outcome is Outcome.SKIP
    assert report.result("rappels.signature").outcome is Outcome.FAIL
    return report


def test_nack_shapes() -> None:
    def sent(status: int, answer: dict) -> c.Sent:
        result = c.Sent("status", b"{}", {}, time.time(), status, json.dumps(answer).encode())
        return result

    nack = {"message": {"ack": {"status": "NACK"}}, "error": {"code": "30022", "message": "rejeu"}}
    assert c.ack_findings(sent(401, nack), "NACK", ("30022",), statuses=(401,)) == []
    wrong_code = c.ack_findings(sent(401, nack), "NACK", ("30016",))
    assert [(f.path, f.got) for f in wrong_code] == [("error.code", "30022")]
    accepted = c.ack_findings(sent(200, c.ACK_BODY), "NACK")
    assert accepted and accepted[0].got.startswith("HTTP 200")
    assert c.ack_findings(sent(200, c.ACK_BODY), "ACK") == []
    assert c.ack_findings(sent(200, {"ok": True}), "ACK")[0].path == "message.ack.status"
