"""Daily rollups behind the 7- and 30-day insights: always the numbers of the events themselves."""

import random
from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import IntegrityError
from django.test import override_settings
from django.utils import timezone

from lookup.insights import queries as insights
from lookup.insights import rollup
from lookup.insights.queries import OUTCOMES, WINDOWS
from lookup.insights.rollup import GRACE
from lookup.models import LookupDayCount, LookupDayLatency, LookupEvent, LookupRollupDay
from tests.factories import LookupEventFactory

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")
# Noon on Monday Mar 9 in New York: the 30-day window spans the DST change of Sunday Mar 8.
NOW = datetime(2026, 3, 9, 12, 0, tzinfo=NY)


def expected(window, now):
    """Counts per local day and outcome, tokens and percentiles, computed in Python from every event."""
    since = insights.bucket_starts(window, now)[0]
    events = list(LookupEvent.objects.filter(created_at__gte=since, created_at__lte=now))
    per_day = {}
    for e in events:
        key = (timezone.localtime(e.created_at).date(), e.outcome)
        per_day[key] = per_day.get(key, 0) + 1
    tokens = {}
    for e in events:
        if e.token_name:
            n, last = tokens.get(e.token_name, (0, e.created_at))
            tokens[e.token_name] = (n + 1, max(last, e.created_at))
    durations = sorted(e.duration_ms for e in events)
    percentiles = {p: durations[insights.nearest_rank(p, len(durations)) - 1] for p in insights.PERCENTILES}
    return per_day, tokens, percentiles


def observed(window, now):
    counts = insights.window_counts(window, now)
    per_day = {
        (timezone.localtime(b.start).date(), outcome): n for b in counts.series for outcome, n in b.counts.items() if n
    }
    tokens = {name: (use.lookups, use.last_lookup_at) for name, use in counts.by_token.items()}
    since = counts.series[0].start
    return per_day, tokens, insights.latency_percentiles(since, now, counts.rolled), counts.rolled


def random_events(n: int, days: int, now: datetime, seed: int = 9):
    rng = random.Random(seed)
    LookupEvent.objects.bulk_create(
        LookupEvent(
            created_at=now - timedelta(seconds=rng.uniform(0, days * 86400)),
            outcome=rng.choice(OUTCOMES).value,
            token_name=rng.choice(["", "flow-a", "flow-b"]),
            # Many ties and many values within the same millisecond, to the stored 3 decimals.
            duration_ms=round(rng.choice([2, 3, 3, 40, 2900]) + rng.random(), rng.choice([0, 1, 3])),
        )
        for _ in range(n)
    )


@pytest.fixture(autouse=True)
def default_time_zone_after():
    """Tests here activate New York; later tests (the lockout page's times) expect the default again."""
    yield
    timezone.deactivate()


@override_settings(TIME_ZONE="America/New_York")
@pytest.mark.parametrize("key", ["7d", "30d"])
def test_rolled_up_days_give_exactly_the_numbers_of_the_events(key):
    timezone.activate(NY)
    random_events(1500, 35, NOW)
    truth = expected(WINDOWS[key], NOW)
    *first, rolled = observed(WINDOWS[key], NOW)  # makes the rollups
    assert len(rolled.day_ids) == WINDOWS[key].buckets - 1  # every day but today
    assert LookupRollupDay.objects.count() == WINDOWS[key].buckets - 1
    assert LookupDayCount.objects.exists() and LookupDayLatency.objects.exists()
    *again, rolled_again = observed(WINDOWS[key], NOW)  # reads them
    assert rolled_again == rolled
    assert tuple(first) == tuple(again) == truth


@override_settings(TIME_ZONE="America/New_York")
def test_the_days_before_are_rolled_up_only_once_and_today_stays_raw():
    timezone.activate(NY)
    random_events(200, 8, NOW)
    observed(WINDOWS["7d"], NOW)
    made = set(LookupRollupDay.objects.values_list("id", flat=True))
    LookupEventFactory(created_at=NOW - timedelta(minutes=1), duration_ms=50000.0)  # today: read raw
    per_day, _, percentiles, _ = observed(WINDOWS["7d"], NOW)
    assert set(LookupRollupDay.objects.values_list("id", flat=True)) == made
    assert (per_day, percentiles) == expected(WINDOWS["7d"], NOW)[::2]
    # A day later the 30-day window adds its older days and yesterday, reusing the others.
    observed(WINDOWS["30d"], NOW + timedelta(days=1))
    assert LookupRollupDay.objects.count() == 29 and made < set(LookupRollupDay.objects.values_list("id", flat=True))


@override_settings(TIME_ZONE="America/New_York")
def test_a_lookup_written_just_after_midnight_for_the_day_before_is_counted():
    """A request running at midnight writes its row a moment later: the day is closed only after GRACE."""
    timezone.activate(NY)
    midnight = datetime(2026, 3, 9, 0, 0, tzinfo=NY)
    LookupEventFactory(created_at=midnight - timedelta(hours=3), outcome="success")
    just_after = midnight + GRACE - timedelta(seconds=1)
    _, _, _, rolled = observed(WINDOWS["7d"], just_after)
    assert rolled.open_since == datetime(2026, 3, 8, 0, 0, tzinfo=NY)  # yesterday is still read raw
    LookupEventFactory(created_at=midnight - timedelta(milliseconds=1), outcome="not_found")  # the late row
    later = midnight + GRACE
    per_day, _, _, rolled = observed(WINDOWS["7d"], later)
    assert rolled.open_since == midnight
    assert per_day == {
        (midnight.date() - timedelta(days=1), "success"): 1,
        (midnight.date() - timedelta(days=1), "not_found"): 1,
    }


@override_settings(TIME_ZONE="America/New_York")
def test_prune_drops_the_rollups_of_the_days_it_changed():
    timezone.activate(NY)
    now = timezone.now()
    random_events(300, 20, now)
    observed(WINDOWS["30d"], now)
    kept_before = LookupRollupDay.objects.filter(start__gte=now - timedelta(days=5)).count()
    out = StringIO()
    call_command("prune_lookup_events", "--days", "5", stdout=out)
    assert LookupRollupDay.objects.filter(start__lt=now - timedelta(days=5)).count() == 0
    assert LookupRollupDay.objects.count() == kept_before  # days after the cutoff keep theirs
    assert observed(WINDOWS["30d"], now)[:3] == expected(WINDOWS["30d"], now)


def test_seed_command_drops_the_rollups_of_the_days_it_filled():
    now = timezone.now()
    LookupEventFactory(created_at=now - timedelta(days=3))
    observed(WINDOWS["7d"], now)
    assert LookupRollupDay.objects.count() >= 5  # 6 closed days, or 5 in the GRACE after midnight
    call_command("seed_lookup_events", "--count", "50", "--days", "2", stdout=StringIO())
    assert LookupRollupDay.objects.filter(start__gte=now - timedelta(days=3)).count() == 0
    assert observed(WINDOWS["7d"], now)[:3] == expected(WINDOWS["7d"], now)


def test_rollups_are_per_time_zone():
    random_events(300, 10, timezone.now())
    now = timezone.now()
    with timezone.override(ZoneInfo("UTC")):
        utc = observed(WINDOWS["7d"], now)
    with timezone.override(ZoneInfo("Asia/Kolkata")):  # days start at 18:30 UTC
        kolkata = observed(WINDOWS["7d"], now)
        assert kolkata[:3] == expected(WINDOWS["7d"], now)
    with timezone.override(ZoneInfo("UTC")):
        assert utc[:3] == expected(WINDOWS["7d"], now)
    assert set(LookupRollupDay.objects.values_list("time_zone", flat=True)) == {"UTC", "Asia/Kolkata"}


def test_a_concurrent_roll_up_falls_back_to_the_events(monkeypatch):
    now = timezone.now()
    random_events(100, 10, now)

    def busy(*args):
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(rollup, "_roll_up", busy)
    *numbers, rolled = observed(WINDOWS["30d"], now)
    assert rolled.day_ids == [] and rolled.open_since == insights.bucket_starts(WINDOWS["30d"], now)[0]
    assert tuple(numbers) == expected(WINDOWS["30d"], now)


def test_percentiles_are_read_from_the_events_when_a_rollup_names_a_millisecond_without_them():
    """Events deleted behind the rollups' back (not through prune): no error, the values of the events."""
    now = timezone.now()
    LookupEventFactory.create_batch(10, created_at=now - timedelta(days=3), duration_ms=2900.5)
    LookupEventFactory.create_batch(10, created_at=now - timedelta(minutes=1), duration_ms=3.25)
    observed(WINDOWS["30d"], now)
    LookupEvent.objects.filter(duration_ms=2900.5).delete()
    counts = insights.window_counts(WINDOWS["30d"], now)
    since = counts.series[0].start
    assert insights.latency_percentiles(since, now, counts.rolled) == {50: 3.25, 95: 3.25, 99: 3.25}
