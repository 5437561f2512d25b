"""The gate of subscribes under way, as a state machine: whatever the order of arrivals and
departures, never more than the limits, a refusal exactly when a limit is reached, and every
place given back."""

from __future__ import annotations

import contextlib

from hypothesis import given, settings
from hypothesis import strategies as st

from reseau_poles.registry.errors import RegistryError
from reseau_poles.registry.services.challenge import ChallengeGate, source_of

SOURCES = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "2001:db8::1"]

# (True, source): a subscribe arrives from source; (False, n): the n-th one under way ends.
steps = st.lists(
    st.one_of(
        st.tuples(st.just(True), st.sampled_from(SOURCES)),
        st.tuples(st.just(False), st.integers(0, 50)),
    ),
    max_size=80,
)


@settings(max_examples=300, deadline=None)
@given(steps=steps, total=st.integers(1, 6), per_source=st.integers(1, 4))
def test_gate_never_exceeds_its_limits(
    steps: list[tuple[bool, object]], total: int, per_source: int
) -> None:
    gate = ChallengeGate(total=total, per_source=per_source, retry_after=7)
    under_way: list[tuple[str, contextlib.ExitStack]] = []
    for arrives, value in steps:
        if arrives:
            source = str(value)
            mine = sum(1 for s, _ in under_way if s == source)
            stack = contextlib.ExitStack()
            try:
                stack.enter_context(gate.hold(source))
            except RegistryError as exc:
                assert mine >= per_source or len(under_way) >= total
                assert exc.http_status == 429
                assert exc.headers == {"Retry-After": "7"}
                assert exc.code.value == "15008"
                continue
            assert mine < per_source and len(under_way) < total
            under_way.append((source, stack))
        elif under_way:
            _, stack = under_way.pop(int(str(value)) % len(under_way))
            stack.close()
        assert gate.in_flight == len(under_way) <= total
    for _, stack in under_way:
        stack.close()
    assert gate.in_flight == 0
    # Every place is free again: each source gets its full share.
    with contextlib.ExitStack() as stack:
        for _ in range(min(per_source, total)):
            stack.enter_context(gate.hold(SOURCES[0]))


def test_a_failing_subscribe_gives_its_place_back() -> None:
    gate = ChallengeGate(total=1, per_source=1, retry_after=1)
    with contextlib.suppress(ValueError), gate.hold("10.0.0.1"):
        raise ValueError("refusée en cours de route")
    with gate.hold("10.0.0.1"):
        assert gate.in_flight == 1


def test_an_ipv6_caller_counts_by_its_64() -> None:
    assert source_of("2001:db8:1:2:aaaa::1") == source_of("2001:db8:1:2:bbbb::9")
    assert source_of("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert source_of("2001:db8:1:3::1") != source_of("2001:db8:1:2::1")
    assert source_of("::ffff:192.0.2.7") == source_of("192.0.2.7") == "192.0.2.7"
    assert source_of("192.0.2.7") != source_of("192.0.2.8")
    assert source_of(None) == "?"
