"""The tester against buyer nodes: ours passes every check; a broken one is caught."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from reseau_poles.buyer.repositories import searches as buyer_repo
from reseau_poles.conformance.buyer import BuyerOptions, run_buyer
from reseau_poles.conformance.report import Outcome, render_text


def test_our_buyer_node_passes_every_check(start_buyer, make_tester) -> None:
    node = start_buyer()
    tester = make_tester("BPP")
    options = BuyerOptions(node.subscriber_id, wait=10, trigger=lambda: node.search(region="QC-03"))
    report = run_buyer(tester, options)
    print(render_text(report, "en"))
    assert report.ok, render_text(report)
    assert all(r.outcome is Outcome.PASS for r in report.results)


def _accepts_replays(app: FastAPI, _monkeypatch: pytest.MonkeyPatch) -> None:
    app.state.network.inbound.replay_guard = None


def _accepts_unknown_transactions(_app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every on_search is taken for one of its own searches."""
    monkeypatch.setattr(buyer_repo, "search_exists", lambda _session, _transaction_id: True)


@pytest.mark.parametrize(
    ("fault", "caught"),
    [
        (_accepts_replays, {"refus.rejeu"}),
        (_accepts_unknown_transactions, {"refus.transaction_inconnue"}),
    ],
    ids=["rejeu-accepte", "transaction-inconnue-acceptee"],
)
def test_a_broken_buyer_node_is_caught_by_the_right_check(
    start_buyer, make_tester, monkeypatch, fault, caught
) -> None:
    node = start_buyer(prepare=lambda app: fault(app, monkeypatch))
    tester = make_tester("BPP")
    options = BuyerOptions(node.subscriber_id, wait=10, trigger=lambda: node.search(region="QC-03"))
    report = run_buyer(tester, options)
    failed = {r.spec.id for r in report.results if r.outcome is Outcome.FAIL}
    assert failed == caught, render_text(report)
