"""The tester on a network whose registry encrypts its challenges in ONDC's scheme: it
subscribes (opening the registry's AES-256-ECB challenge with the registry's published key),
and our seller node passes every check there too."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from reseau_poles.conformance.report import Outcome, render_text
from reseau_poles.conformance.seller import SellerOptions, run_seller
from tests.registry.conftest import RunningRegistry

from .conftest import REGISTRY_ID


@pytest.fixture
def registry(registry_factory: Callable[..., RunningRegistry]) -> RunningRegistry:
    return registry_factory(subscriber_id=REGISTRY_ID, challenge_scheme="ondc")


def test_on_a_network_in_ondcs_scheme_the_tester_joins_and_our_seller_passes(
    start_seller, make_tester
) -> None:
    node = start_seller()
    tester = make_tester("BAP")  # subscribed: it opened the registry's ONDC challenge
    assert tester.registry_scheme == "ondc"
    assert tester.inbox.registry_encryption_key
    report = run_seller(tester, SellerOptions(node.subscriber_id, ttl=5, grace=2))
    assert report.ok, render_text(report)
    assert report.result("defi.on_subscribe").outcome is Outcome.PASS
