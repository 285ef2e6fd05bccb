"""Prometheus metrics of the lookup: counted in record_lookup, served at GET /metrics.

Under gunicorn every worker writes its counters to files in PROMETHEUS_MULTIPROC_DIR
(set up by config/gunicorn.conf.py through config/multiprocess.py), and a scrape sums them.
"""

import hmac
import os
from datetime import timedelta

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector

from lookup.models import ApiToken, LookupEvent

REQUESTS = Counter("lookup_requests", "Lookup API requests by outcome.", ["outcome"])
# The flow gives up after 3 s: fine buckets where lookups should be, coarse ones up to the budget.
DURATION = Histogram(
    "lookup_duration_seconds",
    "Time to answer a lookup, in seconds.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0),
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


def _authorized(request) -> bool:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    expected = f"Bearer {settings.METRICS_TOKEN}"
    # Constant time: the comparison does not reveal how much of the token was right.
    return bool(settings.METRICS_TOKEN) and hmac.compare_digest(header.encode(), expected.encode())


def metrics_view(request):
    """GET /metrics: 404 unless METRICS_ENABLED, 401 without `Authorization: Bearer $METRICS_TOKEN`."""
    if not settings.METRICS_ENABLED:
        return JsonResponse({"error": "Not found"}, status=404)
    if not _authorized(request):
        response = JsonResponse({"error": "Unauthorized"}, status=401)
        response["WWW-Authenticate"] = "Bearer"
        return response
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
