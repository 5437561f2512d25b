"""One Prometheus renderer for every role (participant/metrics.py): the gateway's series through it,
and the registry's rendered the same by it as by its own renderer (so it can take it)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from reseau_poles.gateway.metrics import BUCKETS
from reseau_poles.gateway.metrics import Metrics as GatewayMetrics
from reseau_poles.participant.metrics import Metrics
from reseau_poles.registry import metrics as registry_metrics

HELP = {"demo_calls_total": ("counter", "Appels, par résultat"), "demo_open": ("gauge", "Ouverts")}


def test_the_text_exposition_format() -> None:
    metrics = Metrics(HELP, histograms={"demo_seconds": (0.1, 1.0)})
    metrics.inc("demo_calls_total", result="ack")
    metrics.inc("demo_calls_total", 2, result='n"a\\ck\n')
    metrics.set("demo_open", 2.5)
    metrics.inc("demo_unknown")
    for seconds in (0.05, 0.5, 3.0, 0.1):
        metrics.observe("demo_seconds", seconds)
    assert metrics.value("demo_calls_total", result="ack") == 1
    assert metrics.render() == (
        "# HELP demo_calls_total Appels, par résultat\n"
        "# TYPE demo_calls_total counter\n"
        'demo_calls_total{result="ack"} 1\n'
        'demo_calls_total{result="n\\"a\\\\ck\\n"} 2\n'
        "# HELP demo_open Ouverts\n"
        "# TYPE demo_open gauge\n"
        "demo_open 2.5\n"
        "# HELP demo_unknown demo_unknown\n"
        "# TYPE demo_unknown untyped\n"
        "demo_unknown 1\n"
        "# HELP demo_seconds demo_seconds\n"
        "# TYPE demo_seconds untyped\n"
        'demo_seconds_bucket{le="0.1"} 2\n'
        'demo_seconds_bucket{le="1.0"} 3\n'
        'demo_seconds_bucket{le="+Inf"} 4\n'
        "demo_seconds_sum 3.65\n"
        "demo_seconds_count 4\n"
    )


def test_the_gateway_always_shows_its_fanout_histogram_and_memory() -> None:
    metrics = GatewayMetrics()
    text = metrics.render()
    assert "# TYPE gateway_fanout_seconds histogram" in text
    assert 'gateway_fanout_seconds_bucket{le="+Inf"} 0' in text
    assert text.count("gateway_fanout_seconds_bucket") == len(BUCKETS) + 1
    assert "gateway_process_resident_memory_bytes " in text
    metrics.observe_fanout(0.02)
    metrics.observe_fanout(42.0)
    text = metrics.render()
    assert 'gateway_fanout_seconds_bucket{le="0.025"} 1' in text
    assert 'gateway_fanout_seconds_bucket{le="10.0"} 1' in text
    assert 'gateway_fanout_seconds_bucket{le="+Inf"} 2' in text
    assert "gateway_fanout_seconds_sum 42.02\ngateway_fanout_seconds_count 2\n" in text


def test_counts_from_several_threads_are_all_kept() -> None:
    metrics = Metrics(HELP)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: metrics.inc("demo_calls_total", result="ack"), range(2000)))
    assert metrics.value("demo_calls_total", result="ack") == 2000


def test_the_registrys_series_render_with_their_names_and_types() -> None:
    metrics = registry_metrics.registry_metrics()
    metrics.inc("registry_lookups_total")
    metrics.inc("registry_subscriptions_total", outcome="subscribed", code="")
    metrics.set("registry_subscribers", 3, status="SUBSCRIBED")
    assert metrics.render() == (
        "# HELP registry_lookups_total Recherches (lookup) servies\n"
        "# TYPE registry_lookups_total counter\n"
        "registry_lookups_total 1\n"
        "# HELP registry_subscribers Participants, par statut\n"
        "# TYPE registry_subscribers gauge\n"
        'registry_subscribers{status="SUBSCRIBED"} 3\n'
        "# HELP registry_subscriptions_total Inscriptions, par résultat\n"
        "# TYPE registry_subscriptions_total counter\n"
        'registry_subscriptions_total{code="",outcome="subscribed"} 1\n'
    )
