"""The tester against seller nodes: ours passes every check; a broken one is caught."""

from __future__ import annotations

from reseau_poles.conformance.report import Outcome, render_text
from reseau_poles.conformance.seller import SellerOptions, run_seller


def test_our_seller_node_passes_every_check(start_seller, make_tester) -> None:
    node = start_seller()
    tester = make_tester("BAP")
    report = run_seller(tester, SellerOptions(node.subscriber_id, ttl=5, grace=2))
    print(render_text(report))
    assert report.ok, render_text(report)
    assert all(r.outcome is Outcome.PASS for r in report.results)
