"""Insights from interactions: repeat callers (more than N in the window) and interactions per tier."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from lookup.insights.interactions import TierRow, interactions_per_tier, repeat_callers, repeat_threshold
from tests.factories import CustomerFactory, InteractionFactory, TierFactory

pytestmark = pytest.mark.django_db

INSIGHTS = "/admin/insights/"


@pytest.fixture
def calls(alice, bob):
    """Alice: 4 calls today, 1 ten days ago; Bob: 2 today; 3 unknown callers today; 1 old unknown."""
    now = timezone.now()
    for minutes in range(4):
        InteractionFactory(customer=alice, occurred_at=now - timedelta(minutes=minutes + 1))
    InteractionFactory(customer=alice, occurred_at=now - timedelta(days=10))
    InteractionFactory.create_batch(2, customer=bob, occurred_at=now - timedelta(hours=2))
    InteractionFactory.create_batch(3, customer=None, occurred_at=now - timedelta(hours=3))
    InteractionFactory(customer=None, occurred_at=now - timedelta(days=20))
    return now


def test_repeat_callers_are_customers_with_more_than_n(calls, alice, bob):
    day_ago = calls - timedelta(days=1)
    assert [(r["customer__customer_id"], r["count"]) for r in repeat_callers(day_ago, 2)] == [("CUST-001", 4)]
    assert [(r["customer__customer_id"], r["count"]) for r in repeat_callers(day_ago, 1)] == [
        ("CUST-001", 4),
        ("CUST-002", 2),
    ]
    month_ago = calls - timedelta(days=30)
    assert [(r["customer__customer_id"], r["count"]) for r in repeat_callers(month_ago, 4)] == [("CUST-001", 5)]


def test_interactions_per_tier_counts_calls_and_callers(calls):
    assert interactions_per_tier(calls - timedelta(days=1)) == [
        TierRow("Gold", 4, 1),
        TierRow("Silver", 2, 1),
        TierRow("Unknown caller", 3, 0),
    ]
    assert interactions_per_tier(calls - timedelta(days=30)) == [
        TierRow("Gold", 5, 1),
        TierRow("Silver", 2, 1),
        TierRow("Unknown caller", 4, 0),
    ]


def test_repeat_callers_break_ties_by_latest_call_then_customer(alice, bob):
    at = timezone.now() - timedelta(hours=1)
    carol = CustomerFactory(customer_id="CUST-003", first_name="Carol", last_name="White")
    dave = CustomerFactory(customer_id="CUST-004", first_name="Dave", last_name="Brown")
    for customer, calls, latest in [(alice, 3, at), (bob, 3, at + timedelta(minutes=5)), (carol, 3, at), (dave, 4, at)]:
        InteractionFactory.create_batch(calls - 1, customer=customer, occurred_at=at - timedelta(minutes=30))
        InteractionFactory(customer=customer, occurred_at=latest)
    InteractionFactory.create_batch(5, customer=None, occurred_at=at)  # unmatched callers are nobody's repeats
    rows = repeat_callers(at - timedelta(days=1), 2)
    assert rows == [
        {
            "customer_id": c.pk,
            "customer__customer_id": c.customer_id,
            "customer__first_name": c.first_name,
            "customer__last_name": c.last_name,
            "count": count,
            "last": last,
        }
        for c, count, last in [(dave, 4, at), (bob, 3, at + timedelta(minutes=5)), (alice, 3, at), (carol, 3, at)]
    ]
    assert [r["customer__customer_id"] for r in repeat_callers(at - timedelta(days=1), 2, limit=2)] == [
        "CUST-004",
        "CUST-002",
    ]


def test_window_start_is_inclusive(alice):
    since = timezone.now() - timedelta(days=7)
    InteractionFactory.create_batch(3, customer=alice, occurred_at=since)
    InteractionFactory(customer=alice, occurred_at=since - timedelta(microseconds=1))
    InteractionFactory(customer=None, occurred_at=since)
    InteractionFactory(customer=None, occurred_at=since - timedelta(microseconds=1))
    assert [(r["customer__customer_id"], r["count"], r["last"]) for r in repeat_callers(since, 2)] == [
        ("CUST-001", 3, since)
    ]
    assert interactions_per_tier(since) == [TierRow("Gold", 3, 1), TierRow("Unknown caller", 1, 0)]


def test_tiers_of_one_rank_are_listed_by_name_and_count_each_caller_once(alice, bob):
    amber = CustomerFactory(tier=TierFactory(name="Amber", rank=20))  # Gold's rank
    at = timezone.now() - timedelta(hours=1)
    InteractionFactory.create_batch(3, customer=amber, occurred_at=at)
    InteractionFactory.create_batch(2, customer=alice, occurred_at=at)
    InteractionFactory(customer=CustomerFactory(tier=alice.tier), occurred_at=at)
    InteractionFactory(customer=bob, occurred_at=at)
    CustomerFactory(tier=bob.tier)  # no interaction: not a caller
    assert interactions_per_tier(at - timedelta(days=1)) == [
        TierRow("Amber", 3, 1),
        TierRow("Gold", 3, 2),
        TierRow("Silver", 1, 1),
    ]


@pytest.mark.parametrize(
    ("raw", "expected"), [(None, 2), ("", 2), ("5", 5), ("0", 2), ("1001", 2), ("x", 2), ("٣", 2), ("1", 1)]
)
def test_repeat_threshold_parameter(raw, expected):
    assert repeat_threshold(raw) == expected


def test_insights_page_shows_both_tables(admin_client, calls, alice):
    response = admin_client.get(INSIGHTS, {"window": "24h", "repeat": "3"})
    assert response.status_code == 200
    page = response.content.decode()
    customer = reverse("admin:crm_customer_change", args=[alice.pk])
    listed = reverse("admin:crm_interaction_changelist") + f"?customer__id__exact={alice.pk}"
    assert f'<a href="{customer}">Alice Smith (CUST-001)</a>' in page
    assert f'<td class="num"><a href="{listed}">4</a></td>' in page
    assert 'value="3"' in page
    tiers = page[page.index('id="interactions-per-tier-table"') :]
    assert '<tr><td>Gold</td><td class="num">4</td><td class="num">1</td></tr>' in tiers
    assert '<tr><td>Unknown caller</td><td class="num">3</td><td class="num">—</td></tr>' in tiers


def test_insights_page_says_when_nobody_called_repeatedly(admin_client, calls):
    page = admin_client.get(INSIGHTS, {"window": "24h", "repeat": "10"}).content.decode()
    assert "No customer had more than 10 interactions in this window." in page


def test_insights_page_without_interactions(admin_client):
    page = admin_client.get(INSIGHTS).content.decode()
    assert "No interactions in this window." in page
