"""The insights aggregation: exact counts per local hour/day, hit rate, percentiles, alerts."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings
from django.utils import timezone

from lookup.insights import queries as insights
from lookup.insights.queries import WINDOWS
from tests.factories import LookupEventFactory

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")
UTC = ZoneInfo("UTC")
# 14:20 local on a winter day in New York (UTC-5): 19:20 UTC.
NOW = datetime(2026, 1, 15, 14, 20, tzinfo=NY)


def event(at: datetime, outcome: str = "success", duration_ms: float = 10.0, **kwargs):
    return LookupEventFactory(created_at=at, outcome=outcome, duration_ms=duration_ms, **kwargs)


def counts(series):
    """{local start: {outcome: n}} for the buckets that have lookups."""
    return {
        timezone.localtime(b.start).strftime("%m-%d %H:%M"): {k: v for k, v in b.counts.items() if v}
        for b in series
        if b.total
    }


@pytest.fixture(autouse=True)
def default_time_zone_after():
    """Tests here activate New York; later tests (the lockout page's times) expect the default again."""
    yield
    timezone.deactivate()


@override_settings(TIME_ZONE="America/New_York")
def test_hourly_buckets_are_local_hours_with_zeros_for_gaps():
    timezone.activate(NY)
    event(datetime(2026, 1, 15, 14, 0, tzinfo=NY))  # first instant of the current hour
    event(datetime(2026, 1, 15, 14, 19, tzinfo=NY), "not_found")
    event(datetime(2026, 1, 15, 13, 59, 59, tzinfo=NY), "unauthorized")
    event(datetime(2026, 1, 14, 15, 0, tzinfo=NY), "no_number")  # first instant of the oldest bucket
    event(datetime(2026, 1, 14, 14, 59, 59, tzinfo=NY))  # just before the window: not counted
    event(datetime(2026, 1, 15, 14, 21, tzinfo=NY))  # after "now": not counted
    series = insights.window_counts(WINDOWS["24h"], NOW).series
    assert len(series) == 24
    assert timezone.localtime(series[0].start) == datetime(2026, 1, 14, 15, 0, tzinfo=NY)
    assert timezone.localtime(series[-1].start) == datetime(2026, 1, 15, 14, 0, tzinfo=NY)
    assert counts(series) == {
        "01-14 15:00": {"no_number": 1},
        "01-15 13:00": {"unauthorized": 1},
        "01-15 14:00": {"success": 1, "not_found": 1},
    }
    assert sum(b.total for b in series) == 4


@override_settings(TIME_ZONE="America/New_York")
def test_daily_buckets_split_at_local_midnight_not_utc():
    timezone.activate(NY)
    # 23:30 in New York on Jan 14 is 04:30 UTC on Jan 15: it belongs to the local Jan 14.
    event(datetime(2026, 1, 14, 23, 30, tzinfo=NY))
    event(datetime(2026, 1, 15, 0, 0, tzinfo=NY), "bad_request")
    event(datetime(2026, 1, 9, 0, 0, tzinfo=NY), "not_found")  # first instant of the 7-day window
    event(datetime(2026, 1, 8, 23, 59, tzinfo=NY))  # the day before: outside
    series = insights.window_counts(WINDOWS["7d"], NOW).series
    assert [timezone.localtime(b.start).day for b in series] == [9, 10, 11, 12, 13, 14, 15]
    assert counts(series) == {
        "01-09 00:00": {"not_found": 1},
        "01-14 00:00": {"success": 1},
        "01-15 00:00": {"bad_request": 1},
    }
    assert len(insights.window_counts(WINDOWS["30d"], NOW).series) == 30


@override_settings(TIME_ZONE="America/New_York")
def test_days_across_a_dst_change_are_local_days():
    timezone.activate(NY)
    now = datetime(2026, 3, 9, 12, 0, tzinfo=NY)  # DST began on Sunday Mar 8 at 02:00
    starts = insights.bucket_starts(WINDOWS["7d"], now)
    assert [s.utcoffset() for s in starts[-3:]] == [timedelta(hours=-5), timedelta(hours=-5), timedelta(hours=-4)]
    event(datetime(2026, 3, 8, 23, 30, tzinfo=NY))  # 03:30 UTC on Mar 9
    assert counts(insights.window_counts(WINDOWS["7d"], now).series) == {"03-08 00:00": {"success": 1}}


@override_settings(TIME_ZONE="America/New_York")
def test_hours_across_dst_fall_back_have_one_bucket_for_the_repeated_hour():
    timezone.activate(NY)
    now = datetime(2026, 11, 1, 3, 30, tzinfo=NY)  # 01:00-02:00 happened twice that night
    series_starts = insights.bucket_starts(WINDOWS["24h"], now)
    assert len(series_starts) == 24 - 1
    event(datetime(2026, 11, 1, 5, 30, tzinfo=UTC))  # 01:30 EDT
    event(datetime(2026, 11, 1, 6, 30, tzinfo=UTC))  # 01:30 EST
    assert counts(insights.window_counts(WINDOWS["24h"], now).series) == {"11-01 01:00": {"success": 2}}


def test_hit_rate_is_success_over_success_and_not_found():
    totals = {"success": 3, "not_found": 1, "no_number": 50, "unauthorized": 9, "bad_request": 2}
    assert insights.hit_rate(totals) == 0.75
    assert insights.hit_rate({**totals, "success": 0, "not_found": 0}) is None


@pytest.mark.parametrize(
    ("p", "n", "rank"),
    [(50, 1, 1), (50, 10, 5), (50, 11, 6), (95, 10, 10), (95, 100, 95), (99, 100, 99), (99, 101, 100)],
)
def test_nearest_rank(p, n, rank):
    assert insights.nearest_rank(p, n) == rank


def test_percentiles_are_nearest_rank_on_every_database():
    now = timezone.now()
    # Durations 1..100 ms in scrambled order, plus one outside the window.
    for d in [37, 2, 99, 100, 1, 50, 51, 95, 96, *[x for x in range(3, 100) if x not in (37, 50, 51, 95, 96, 99)]]:
        event(now - timedelta(minutes=5), duration_ms=float(d))
    event(now - timedelta(days=2), duration_ms=9999.0)
    assert insights.latency_percentiles(now - timedelta(hours=1), now) == {50: 50.0, 95: 95.0, 99: 99.0}
    event(now - timedelta(minutes=1), duration_ms=100.5)  # 101 values: ranks 51, 96, 100
    assert insights.latency_percentiles(now - timedelta(hours=1), now) == {50: 51.0, 95: 96.0, 99: 100.0}
    no_lookups = (now - timedelta(hours=30), now - timedelta(hours=2))
    assert insights.latency_percentiles(*no_lookups) == {50: None, 95: None, 99: None}


def test_percentiles_pick_the_exact_value_within_a_millisecond():
    """Many durations share a whole millisecond: the rank within it decides, to the stored 3 decimals."""
    now = timezone.now()
    # 100 values: 0.001 .. 0.049 (49), 7.000 .. 7.049 (50), 2500.125; all of rank 50 .. 99 lie in 7 ms.
    durations = [i / 1000 for i in range(1, 50)] + [7 + i / 1000 for i in range(50)] + [2500.125]
    for d in reversed(durations):
        event(now - timedelta(minutes=5), duration_ms=d)
    assert insights.latency_percentiles(now - timedelta(hours=1), now) == {50: 7.0, 95: 7.045, 99: 7.049}
    event(now - timedelta(minutes=5), duration_ms=7.0)  # a tie at 7.000 moves the ranks by one value
    assert insights.latency_percentiles(now - timedelta(hours=1), now) == {50: 7.0, 95: 7.045, 99: 7.049}


def test_tokens_in_use_with_their_lookups_and_last_lookup(token):
    from lookup.services import token_create

    revoked, _ = token_create(name="old-flow")
    revoked.revoke()
    token_create(name="never-used")
    now = timezone.now()
    event(now - timedelta(minutes=30), token_name="genesys-test")
    event(now - timedelta(minutes=10), token_name="genesys-test")
    event(now - timedelta(minutes=5), token_name="old-flow")
    counts_ = insights.window_counts(WINDOWS["24h"], now)
    uses = insights.tokens_in_use(counts_.by_token)
    assert [(u.name, u.lookups, u.last_lookup_at) for u in uses] == [
        ("genesys-test", 2, now - timedelta(minutes=10)),
        ("never-used", 0, None),
    ]


class TestAlerts:
    NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)

    def keys(self, p99=None):
        return [a.key for a in insights.alerts(self.NOW, p99)]

    def spread_unauthorized(self, per_hour: int):
        for h in range(1, 25):
            for _ in range(per_hour):
                event(self.NOW - timedelta(hours=h, minutes=30), "unauthorized")

    def test_no_alerts_on_steady_traffic(self):
        event(self.NOW - timedelta(minutes=10))
        event(self.NOW - timedelta(hours=5))
        assert self.keys(p99=1000.0) == []

    def test_unauthorized_rise(self):
        self.spread_unauthorized(1)  # 24 in the day before: average 1 per hour
        for _ in range(11):
            event(self.NOW - timedelta(minutes=20), "unauthorized")
        assert self.keys() == ["unauthorized"]
        alert = insights.alerts(self.NOW, None)[0]
        assert alert.message == (
            "11 unauthorized lookups in the last hour (hourly average before: 1.0). "
            "A flow may be using a wrong or revoked token."
        )

    def test_ten_unauthorized_are_not_a_rise(self):
        for _ in range(10):
            event(self.NOW - timedelta(minutes=20), "unauthorized")
        assert self.keys() == []

    def test_unauthorized_steady_at_a_high_level_is_not_a_rise(self):
        self.spread_unauthorized(4)  # average 4 per hour: 12 is not more than 3x
        for _ in range(12):
            event(self.NOW - timedelta(minutes=20), "unauthorized")
        assert self.keys() == []
        event(self.NOW - timedelta(minutes=20), "unauthorized")  # 13 > 12
        assert self.keys() == ["unauthorized"]

    def test_slow_p99(self):
        event(self.NOW - timedelta(minutes=10))
        assert self.keys(p99=1000.1) == ["slow"]
        assert self.keys(p99=1000.0) == []

    def test_silence_after_a_day_with_lookups(self):
        event(self.NOW - timedelta(hours=3))
        assert self.keys() == ["silence"]
        assert insights.alerts(self.NOW, None)[0].message == (
            "No lookups in the last hour, after 1 in the 24 hours before. Is the Genesys flow still calling?"
        )

    def test_no_silence_alert_when_there_was_no_traffic_at_all(self):
        event(self.NOW - timedelta(hours=26))  # older than the 24 hours before the last hour
        assert self.keys() == []


@pytest.mark.parametrize(
    ("value", "scale"),
    [(0, (1, 1)), (1, (1, 1)), (4, (4, 1)), (6, (6, 2)), (10, (10, 2)), (11, (15, 5)), (147, (150, 50))],
)
def test_y_scale_has_whole_steps(value, scale):
    from lookup.insights.charts import y_scale

    assert y_scale(value) == scale


def test_chart_geometry_stacks_outcomes_and_labels_axes():
    from lookup.insights.charts import HEIGHT, PLOT_H, TOP, stacked_bars
    from lookup.insights.queries import Bucket

    start = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
    series = [
        Bucket(start, {"success": 6, "not_found": 2, "no_number": 0, "bad_request": 0, "unauthorized": 2}),
        Bucket(
            start + timedelta(hours=1),
            dict.fromkeys(["success", "not_found", "no_number", "bad_request", "unauthorized"], 0),
        ),
    ]
    with timezone.override(UTC):
        chart = stacked_bars(WINDOWS["24h"], series)
    baseline = TOP + PLOT_H
    assert chart["baseline"] == baseline and chart["height"] == HEIGHT
    assert [g["value"] for g in chart["gridlines"]] == ["0", "2", "4", "6", "8", "10"]
    first, empty = chart["bars"]
    assert [(s.outcome, s.height) for s in first.segments] == [
        ("success", round(PLOT_H * 0.6, 2)),
        ("not_found", round(PLOT_H * 0.2, 2)),
        ("unauthorized", round(PLOT_H * 0.2, 2)),
    ]
    assert first.segments[0].y == round(baseline - PLOT_H * 0.6, 2)  # success sits on the baseline
    assert first.segments[-1].y == TOP  # the tallest bar reaches the top
    assert empty.segments == []
    assert first.title == (
        "Thu Jan 15, 09:00: 10 lookups (success 6, not found 2, no number 0, bad request 0, unauthorized 2)"
    )
    assert (first.label, empty.label) == ("09:00", "10:00")
