"""The tester against seller nodes: ours passes every check; a broken one is caught."""

from __future__ import annotations

import asyncio
import dataclasses
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI

from reseau_poles.conformance.report import Outcome, render_text
from reseau_poles.conformance.seller import SellerOptions, run_seller
from reseau_poles.protocol.keys import SubscriberKeys
from reseau_poles.protocol.profile.taxes import LineTaxes, TaxSummary, order_taxes
from reseau_poles.protocol.signing import Signer
from reseau_poles.seller.services import catalog as seller_catalog
from reseau_poles.seller.services import quotes as seller_quotes


def test_our_seller_node_passes_every_check(start_seller, make_tester) -> None:
    node = start_seller()
    tester = make_tester("BAP")
    report = run_seller(tester, SellerOptions(node.subscriber_id, ttl=5, grace=2))
    print(render_text(report))
    assert report.ok, render_text(report)
    assert all(r.outcome is Outcome.PASS for r in report.results)


# --- a broken seller node: each fault caught by its check ----------------------------------


def _wrong_key(app: FastAPI, _monkeypatch: pytest.MonkeyPatch) -> None:
    """Callbacks signed by another key under the registered key id."""
    client = app.state.network.client
    impostor = SubscriberKeys.generate("imposteur.example")
    client.signer = Signer(client.signer.subscriber_id, client.signer.key_id, impostor.signing)


def _wrong_tax(_app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    """The TPS of every quote one cent too high."""

    def one_cent_more(lines: Any) -> TaxSummary:
        summary = order_taxes(lines)
        extra = LineTaxes(Decimal("0.00"), True, Decimal("0.01"), Decimal("0.00"))
        return TaxSummary((*summary.lines, extra))

    monkeypatch.setattr(seller_quotes, "order_taxes", one_cent_more)


def _no_taxes_tag(_app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    """Items in the catalog without the ``taxes`` tag group."""
    original = seller_catalog.item_tags
    monkeypatch.setattr(
        seller_catalog, "item_tags", lambda row: dataclasses.replace(original(row), taxable=None)
    )


def _accepts_replays(app: FastAPI, _monkeypatch: pytest.MonkeyPatch) -> None:
    app.state.network.inbound.replay_guard = None


def _late(app: FastAPI, _monkeypatch: pytest.MonkeyPatch) -> None:
    """Each callback leaves 2.5 s late (the tester's requests give a ttl of 2 s)."""
    client = app.state.network.client
    post = client.post

    async def slow(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(2.5)
        return await post(*args, **kwargs)

    client.post = slow


@pytest.mark.parametrize(
    ("fault", "caught", "ttl"),
    [
        (_wrong_key, {"registre.cle", "rappels.signature"}, 5),
        (_wrong_tax, {"devis.taxes"}, 5),
        (_no_taxes_tag, {"profil.catalogue"}, 5),
        (_accepts_replays, {"refus.rejeu"}, 5),
        (_late, {"rappels.delai"}, 2),
    ],
    ids=["mauvaise-cle", "taxes-fausses", "etiquette-absente", "rejeu-accepte", "rappels-tardifs"],
)
def test_a_broken_seller_node_is_caught_by_the_right_check(
    start_seller, make_tester, monkeypatch, fault, caught, ttl
) -> None:
    node = start_seller(prepare=lambda app: fault(app, monkeypatch))
    tester = make_tester("BAP")
    report = run_seller(tester, SellerOptions(node.subscriber_id, ttl=ttl, grace=2))
    failed = {r.spec.id for r in report.results if r.outcome is Outcome.FAIL}
    assert failed == caught, render_text(report)
    assert not report.ok
    # Each failure says which message, where, what was expected and what came.
    for result in report.results:
        if result.outcome is Outcome.FAIL:
            assert result.findings
            assert all(f.message for f in result.findings), result.to_dict()
