"""Read queries behind the "Lookup insights" admin page: all aggregation is done by the database."""

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db import models
from django.db.models import Count, F, Max, Q
from django.db.models.functions import RowNumber, TruncDay, TruncHour
from django.utils import timezone

from lookup.contract import FLOW_BUDGET_MS
from lookup.insights import rollup
from lookup.insights.rollup import Rolled
from lookup.models import ApiToken, LookupDayCount, LookupDayLatency, LookupEvent

Outcome = LookupEvent.Outcome
# Chart order, bottom to top: answers first, refusals on top.
OUTCOMES = [Outcome.SUCCESS, Outcome.NOT_FOUND, Outcome.NO_NUMBER, Outcome.BAD_REQUEST, Outcome.UNAUTHORIZED]
PERCENTILES = (50, 95, 99)

# Alert thresholds (docs/support.md, the insights dashboard).
UNAUTHORIZED_MIN_LAST_HOUR = 10  # below this a few typos are not a "rise"
UNAUTHORIZED_RISE_FACTOR = 3  # last hour vs the hourly average of the 24 hours before it
P99_ALERT_MS = 1000


@dataclass(frozen=True)
class Window:
    """A time range of the page: how far back, and the bucket size of its chart."""

    key: str
    label: str
    unit: str  # "hour" or "day"
    buckets: int


WINDOWS = {
    "24h": Window("24h", "Last 24 hours", "hour", 24),
    "7d": Window("7d", "Last 7 days", "day", 7),
    "30d": Window("30d", "Last 30 days", "day", 30),
}
DEFAULT_WINDOW = "24h"


def window_for(key: str | None) -> Window:
    """The window named by a query parameter; the default for anything unknown."""
    return WINDOWS.get(key or "", WINDOWS[DEFAULT_WINDOW])


def bucket_starts(window: Window, now: datetime) -> list[datetime]:
    """Start of every bucket, oldest first, as aware local times; the last one contains `now`."""
    tz = timezone.get_current_timezone()
    local_now = timezone.localtime(now, tz)
    if window.unit == "day":
        today = local_now.date()
        days = [today - timedelta(days=n) for n in range(window.buckets - 1, -1, -1)]
        # Midnight of each local date: days are 23 or 25 hours long around DST changes.
        return [datetime(d.year, d.month, d.day, tzinfo=tz) for d in days]
    # Step in UTC so a DST change neither skips nor repeats an hour, then name each by its local hour.
    # (Arithmetic on an aware local datetime is wall-clock arithmetic, hence the detour through UTC.)
    top = local_now.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
    starts = []
    for n in range(window.buckets - 1, -1, -1):
        start = timezone.localtime(top - timedelta(hours=n), tz)
        start = start.replace(minute=0, second=0, microsecond=0)
        if start not in starts:  # the repeated hour of a DST fall-back is one bucket, as in the database
            starts.append(start)
    return starts


def _bucket_key(value: datetime) -> tuple:
    """A bucket's local wall-clock hour: the database names the repeated DST hour like the first one."""
    local = timezone.localtime(value)
    return (local.year, local.month, local.day, local.hour)


@dataclass
class Bucket:
    start: datetime
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class TokenUse:
    name: str
    last_used_at: datetime | None
    lookups: int = 0
    last_lookup_at: datetime | None = None


@dataclass
class WindowCounts:
    """Lookups per bucket and outcome (gaps as zeros), and per token name, in one window."""

    series: list[Bucket]
    by_token: dict[str, TokenUse]
    rolled: Rolled  # what of the window came from daily rollups: the percentiles reuse it


def window_counts(window: Window, now: datetime) -> WindowCounts:
    """One query: rolled-up closed days (day windows) plus a GROUP BY (bucket, outcome, token) of the rest."""
    starts = bucket_starts(window, now)
    tz = timezone.get_current_timezone()
    # Hours are never rolled up: 24 of them are one day of events, read raw in a few milliseconds.
    rolled = rollup.rolled_up(starts, now) if window.unit == "day" else Rolled([], starts[0])
    trunc = TruncHour if window.unit == "hour" else TruncDay
    rows = (
        LookupEvent.objects.filter(created_at__gte=rolled.open_since, created_at__lte=now)
        .annotate(bucket=trunc("created_at", tzinfo=tz))
        .values("bucket", "outcome", "token_name")
        .annotate(n=Count("*"), last=Max("created_at"))
        .order_by()
    )
    if rolled.day_ids:
        summed = (
            LookupDayCount.objects.filter(rollup_day_id__in=rolled.day_ids)
            # Truncated like the events' side, so both halves of the UNION have one type on every database.
            .annotate(bucket=TruncDay("rollup_day__start", tzinfo=tz))
            .values("bucket", "outcome", "token_name")
            .annotate(n=F("lookups"), last=F("last_at"))
        )
        rows = rows.union(summed, all=True)
    buckets = {_bucket_key(start): Bucket(start, {o.value: 0 for o in OUTCOMES}) for start in starts}
    by_token: dict[str, TokenUse] = {}
    for row in rows:
        buckets[_bucket_key(row["bucket"])].counts[row["outcome"]] += row["n"]
        if row["token_name"]:
            use = by_token.setdefault(row["token_name"], TokenUse(row["token_name"], None))
            use.lookups += row["n"]
            use.last_lookup_at = max(filter(None, [use.last_lookup_at, row["last"]]))
    return WindowCounts(list(buckets.values()), by_token, rolled)


def outcome_totals(series: list[Bucket]) -> dict[str, int]:
    return {o.value: sum(b.counts[o.value] for b in series) for o in OUTCOMES}


def hit_rate(totals: dict[str, int]) -> float | None:
    """success / (success + not_found): how often a caller with a number is recognised; None without any."""
    asked = totals[Outcome.SUCCESS] + totals[Outcome.NOT_FOUND]
    return totals[Outcome.SUCCESS] / asked if asked else None


def nearest_rank(p: float, n: int) -> int:
    """1-based rank of the p-th percentile among n sorted values: ceil(p/100 * n), at least 1.

    The definition of PostgreSQL's percentile_disc (ceil(fraction * rows)).
    """
    return max(1, math.ceil((p / 100) * n))


def latency_percentiles(since: datetime, until: datetime, rolled: Rolled | None = None) -> dict[int, float | None]:
    """p50/p95/p99 of duration_ms over all lookups in [since, until], exactly, by nearest rank.

    Two small queries instead of sorting every duration: a histogram per whole millisecond (daily
    rollups for the closed days in `rolled`, grouped events for the rest) tells in which millisecond
    each rank lies and its rank there; then the events of just those milliseconds give the values.
    """
    rolled = rolled or Rolled([], since)
    histogram = _ms_histogram(rolled, until)
    count = sum(histogram.values())
    if count == 0:
        return dict.fromkeys(PERCENTILES)
    wanted: dict[int, tuple[int, int]] = {}  # percentile -> (millisecond, rank within it)
    below = 0
    for ms in sorted(histogram):
        for p in PERCENTILES:
            rank = nearest_rank(p, count)
            if below < rank <= below + histogram[ms]:
                wanted[p] = (ms, rank - below)
        below += histogram[ms]
    values = _ranked_in_ms(since, until, set(wanted.values()))
    if len(values) < len(set(wanted.values())):
        # A rollup disagrees with the events (changed without rollup.forget): stay exact, read them all.
        return latency_percentiles(since, until) if rolled.day_ids else dict.fromkeys(PERCENTILES)
    return {p: values[wanted[p]] for p in PERCENTILES}


def _ms_histogram(rolled: Rolled, until: datetime) -> Counter:
    """Lookups per whole millisecond of duration: rolled-up days plus the events after them, one query."""
    rows = (
        LookupEvent.objects.filter(created_at__gte=rolled.open_since, created_at__lte=until)
        .annotate(ms=rollup.whole_ms())
        .values("ms")
        .annotate(n=Count("*"))
        .order_by()
    )
    if rolled.day_ids:
        summed = LookupDayLatency.objects.filter(rollup_day_id__in=rolled.day_ids).values("ms").annotate(n=F("lookups"))
        rows = rows.union(summed, all=True)
    histogram: Counter = Counter()
    for row in rows:
        histogram[row["ms"]] += row["n"]
    return histogram


def _ranked_in_ms(since: datetime, until: datetime, wanted: set[tuple[int, int]]) -> dict[tuple[int, int], float]:
    """The rank-th smallest duration within its whole millisecond, for each (ms, rank), in one query."""
    in_ms, pick = Q(), Q()
    for ms, rank in wanted:
        in_ms |= Q(duration_ms__gte=ms, duration_ms__lt=ms + 1)
        pick |= Q(ms=ms, rank=rank)
    ranked = (
        LookupEvent.objects.filter(in_ms, created_at__gte=since, created_at__lte=until)
        .annotate(
            ms=rollup.whole_ms(),
            rank=models.Window(RowNumber(), partition_by=[rollup.whole_ms()], order_by=F("duration_ms").asc()),
        )
        .filter(pick)
        .order_by()
        .values_list("ms", "rank", "duration_ms")
    )
    return {(ms, rank): duration for ms, rank, duration in ranked}


def tokens_in_use(by_token: dict[str, TokenUse]) -> list[TokenUse]:
    """Active tokens with their lookups in the window, busiest first, never-used last."""
    uses = []
    for token in ApiToken.objects.active().only("name", "last_used_at"):
        use = by_token.get(token.name) or TokenUse(token.name, None)
        uses.append(TokenUse(token.name, token.last_used_at, use.lookups, use.last_lookup_at))
    uses.sort(key=lambda u: (-u.lookups, u.last_used_at is None, u.name))
    return uses


@dataclass
class Alert:
    key: str
    message: str


def alerts(now: datetime, p99_ms: float | None) -> list[Alert]:
    """What a support lead should look at now (one query over the last 25 hours).

    - unauthorized rise: more than UNAUTHORIZED_MIN_LAST_HOUR refusals in the last hour and more
      than UNAUTHORIZED_RISE_FACTOR x their hourly average over the 24 hours before it;
    - slow: the window's p99 latency over P99_ALERT_MS;
    - silence: no lookup at all in the last hour, though there were some in the 24 hours before it.
    """
    hour_ago = now - timedelta(hours=1)
    recent = Q(created_at__gt=hour_ago)
    refused = Q(outcome=Outcome.UNAUTHORIZED)
    counts = LookupEvent.objects.filter(created_at__gt=now - timedelta(hours=25), created_at__lte=now).aggregate(
        last_hour=Count("id", filter=recent),
        day_before=Count("id", filter=~recent),
        unauthorized_last_hour=Count("id", filter=recent & refused),
        unauthorized_day_before=Count("id", filter=~recent & refused),
    )
    found = []
    hourly_average = counts["unauthorized_day_before"] / 24
    last_hour = counts["unauthorized_last_hour"]
    if last_hour > UNAUTHORIZED_MIN_LAST_HOUR and last_hour > UNAUTHORIZED_RISE_FACTOR * hourly_average:
        found.append(
            Alert(
                "unauthorized",
                f"{last_hour} unauthorized lookups in the last hour (hourly average before: {hourly_average:.1f}). "
                "A flow may be using a wrong or revoked token.",
            )
        )
    if p99_ms is not None and p99_ms > P99_ALERT_MS:
        found.append(
            Alert(
                "slow",
                f"Latency p99 is {p99_ms:,.0f} ms, over {P99_ALERT_MS:,} ms (the flow gives up at {FLOW_BUDGET_MS:,} ms).",
            )
        )
    if counts["last_hour"] == 0 and counts["day_before"] > 0:
        found.append(
            Alert(
                "silence",
                f"No lookups in the last hour, after {counts['day_before']:,} in the 24 hours before. "
                "Is the Genesys flow still calling?",
            )
        )
    return found
