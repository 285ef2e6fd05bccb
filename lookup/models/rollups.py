"""Daily rollups of lookup events, read by the insights page (lookup/insights/rollup.py)."""

from django.db import models
from django.utils import timezone

from lookup.models.events import LookupEvent


class LookupRollupDay(models.Model):
    """A closed local day (in `time_zone`) whose lookups are summed up in the two tables below.

    Made lazily by the insights page (lookup/insights/rollup.py), so its 7- and 30-day windows read a few
    rows per day instead of every event. Removed again by whatever changes a past day's events.
    """

    time_zone = models.CharField(max_length=64)
    day = models.DateField()
    start = models.DateTimeField(help_text="Local midnight that starts the day.")
    made_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["time_zone", "day"], name="lookup_rollup_day_unique")]

    def __str__(self) -> str:
        return f"{self.day} ({self.time_zone})"


class LookupDayCount(models.Model):
    """Lookups of one rolled-up day per outcome and token name, with the last one's time."""

    rollup_day = models.ForeignKey(LookupRollupDay, on_delete=models.CASCADE, related_name="counts")
    outcome = models.CharField(max_length=16, choices=LookupEvent.Outcome.choices)
    token_name = models.CharField(max_length=100, blank=True)
    lookups = models.PositiveIntegerField()
    last_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rollup_day", "outcome", "token_name"], name="lookup_day_count_unique")
        ]


class LookupDayLatency(models.Model):
    """Lookups of one rolled-up day per whole millisecond of duration (floor): a histogram that
    locates each percentile's millisecond; the exact value then comes from that millisecond's events."""

    rollup_day = models.ForeignKey(LookupRollupDay, on_delete=models.CASCADE, related_name="latencies")
    ms = models.IntegerField()
    lookups = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rollup_day", "ms"], name="lookup_day_latency_unique")]
