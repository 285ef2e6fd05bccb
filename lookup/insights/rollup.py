"""Daily rollups of lookup events: closed local days summed up once, the open day read raw.

A 30-day window of the insights page would otherwise aggregate every event (1,000,000 at the
target scale) on each view. A day is rolled up the first time a page needs it after it closed,
from the events table itself, so the numbers stay exactly those of the events:
- a day counts as closed only GRACE after its end: a lookup's row can be written a moment
  after its created_at (the request was still running at midnight);
- whatever adds or removes events of a past day (prune_lookup_events, seed_lookup_events) calls
  `forget`, and the page rolls those days up again from the events that remain.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, IntegerField, Max
from django.db.models.functions import Cast, Floor, TruncDay
from django.utils import timezone

from lookup.models import LookupDayCount, LookupDayLatency, LookupEvent, LookupRollupDay

GRACE = timedelta(minutes=10)  # far longer than any lookup request may run (gunicorn's timeout)


def whole_ms():
    """duration_ms rounded down to a whole millisecond: the histogram's bucket, the same on every database."""
    return Cast(Floor("duration_ms"), IntegerField())


@dataclass(frozen=True)
class Rolled:
    """The rollups covering the start of a window, and where its raw events take over."""

    day_ids: list[int]
    open_since: datetime


def rolled_up(starts: list[datetime], now: datetime) -> Rolled:
    """Rollups for the closed days among the window's day starts (made now if missing).

    Closed days always form a prefix of the window; the rest is read from the events.
    """
    ends = dict(zip(starts, starts[1:], strict=False))
    closed = [start for start, end in ends.items() if end + GRACE <= now]
    if not closed:
        return Rolled([], starts[0])
    time_zone = timezone.get_current_timezone_name()
    ids = dict(LookupRollupDay.objects.filter(time_zone=time_zone, start__in=closed).values_list("start", "id"))
    missing = {start: ends[start] for start in closed if start not in ids}
    if missing:
        try:
            ids.update(_roll_up(time_zone, missing))
        except IntegrityError:
            # Another request is rolling up the same days right now: read raw events this time.
            return Rolled([], starts[0])
    return Rolled([ids[start] for start in closed], starts[len(closed)])


def _day(value: datetime):
    return timezone.localtime(value).date()


def _roll_up(time_zone: str, missing: dict[datetime, datetime]) -> dict[datetime, int]:
    """Sum up these days (start -> end) from their events: two grouped scans, three bulk inserts."""
    tz = timezone.get_current_timezone()
    with transaction.atomic():
        # The headers first: a concurrent roll-up of the same day waits on the unique key, then fails.
        days = LookupRollupDay.objects.bulk_create(
            [LookupRollupDay(time_zone=time_zone, day=_day(start), start=start) for start in missing]
        )
        by_day = {day.day: day for day in days}
        events = (
            LookupEvent.objects.filter(created_at__gte=min(missing), created_at__lt=max(missing.values()))
            .annotate(local_day=TruncDay("created_at", tzinfo=tz))
            .order_by()
        )
        counts = events.values("local_day", "outcome", "token_name").annotate(n=Count("*"), last=Max("created_at"))
        LookupDayCount.objects.bulk_create(
            LookupDayCount(
                rollup_day=by_day[_day(row["local_day"])],
                outcome=row["outcome"],
                token_name=row["token_name"],
                lookups=row["n"],
                last_at=row["last"],
            )
            for row in counts
            if _day(row["local_day"]) in by_day  # the range may span days rolled up before
        )
        latencies = events.annotate(ms=whole_ms()).values("local_day", "ms").annotate(n=Count("*"))
        LookupDayLatency.objects.bulk_create(
            LookupDayLatency(rollup_day=by_day[_day(row["local_day"])], ms=row["ms"], lookups=row["n"])
            for row in latencies
            if _day(row["local_day"]) in by_day
        )
    return {day.start: day.pk for day in days}


def forget(*, since: datetime | None = None, until: datetime | None = None) -> None:
    """Drop the rollups of the days that overlap [since, until) (unbounded if left out): their events changed."""
    days = LookupRollupDay.objects.all()
    if since is not None:
        # A day ends at most 25 hours after its start (DST); one day too many is only rolled up again.
        days = days.filter(start__gt=since - timedelta(hours=25))
    if until is not None:
        days = days.filter(start__lt=until)
    days.delete()
