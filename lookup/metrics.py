"""Prometheus metrics of the lookup: counted in record_lookup, served at GET /metrics (lookup/api/views.py).

Under gunicorn every worker writes its counters to files in PROMETHEUS_MULTIPROC_DIR
(set up by config/gunicorn.conf.py through config/multiprocess.py), and a scrape sums them.
"""

import os
from datetime import timedelta

from django.utils import timezone
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from lookup.contract import FLOW_BUDGET_MS
from lookup.models import ApiToken, LookupEvent

REQUESTS = Counter("lookup_requests", "Lookup API requests by outcome.", ["outcome"])
# Fine buckets where lookups should be, coarse ones up to the flow's budget (the last bucket).
DURATION = Histogram(
    "lookup_duration_seconds",
    "Time to answer a lookup, in seconds.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, FLOW_BUDGET_MS / 1000),
)
# Children made once: .labels() takes a lock and a dict lookup on every call otherwise.
_BY_OUTCOME = {outcome: REQUESTS.labels(outcome) for outcome in LookupEvent.Outcome.values}
TOKENS_IN_USE_WINDOW = timedelta(hours=1)


def observe_lookup(outcome: str, duration_ms: float) -> None:
    """Count one lookup and its duration (the hot path: two in-memory or mmap writes)."""
    _BY_OUTCOME[outcome].inc()
    DURATION.observe(duration_ms / 1000)


class TokenCollector:
    """Gauges read from the database at scrape time, so every worker reports the same value."""

    def collect(self):
        active = ApiToken.objects.active()
        gauge = GaugeMetricFamily("lookup_tokens_active", "API tokens not revoked.")
        gauge.add_metric([], active.count())
        yield gauge
        since = timezone.now() - TOKENS_IN_USE_WINDOW
        gauge = GaugeMetricFamily(
            "lookup_tokens_in_use", "Active API tokens used in the last hour (last use is recorded to the minute)."
        )
        gauge.add_metric([], active.filter(last_used_at__gte=since).count())
        yield gauge


class _Chain:
    """A collector that yields what other collectors collect."""

    def __init__(self, *collectors):
        self.collectors = collectors

    def collect(self):
        for collector in self.collectors:
            yield from collector.collect()


def exposition() -> bytes:
    """The text format of all lookup metrics: summed over workers in multiprocess mode."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
        registry.register(TokenCollector())
    else:
        registry.register(_Chain(REGISTRY, TokenCollector()))
    return generate_latest(registry)
