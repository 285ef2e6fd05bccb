"""The unknown-caller worklist query: not-found lookups and unmatched interactions, per number."""

from datetime import timedelta

import pytest
from django.utils import timezone

from lookup.insights.worklist import unknown_callers
from tests.factories import CustomerPhoneFactory, InteractionFactory, LookupEventFactory

pytestmark = pytest.mark.django_db


def lookup(at, number: str, outcome: str = "not_found"):
    return LookupEventFactory(created_at=at, outcome=outcome, phone_number=number)


def call(at, number: str, customer=None):
    return InteractionFactory(occurred_at=at, ani=number, customer=customer)


def test_lookups_counts_order_and_exclusion_of_numbers_now_owned():
    now = timezone.now()
    for _ in range(3):
        lookup(now - timedelta(hours=2), "+15550000003")
    lookup(now - timedelta(hours=1), "+15550000001")
    lookup(now - timedelta(minutes=1), "+15550000002")  # ties with ...01, seen later
    for _ in range(5):
        lookup(now - timedelta(hours=3), "+15550000009")  # a customer by now
    CustomerPhoneFactory(number="+15550000009")
    lookup(now, "+15551234567", "success")
    lookup(now, "none", "no_number")
    lookup(now - timedelta(days=3), "+15550000004")  # only in the longer window
    assert unknown_callers(now - timedelta(days=1))[0:10] == [
        {"phone_number": "+15550000003", "lookups": 3, "calls": 0, "last_seen": now - timedelta(hours=2)},
        {"phone_number": "+15550000002", "lookups": 1, "calls": 0, "last_seen": now - timedelta(minutes=1)},
        {"phone_number": "+15550000001", "lookups": 1, "calls": 0, "last_seen": now - timedelta(hours=1)},
    ]
    assert [r["phone_number"] for r in unknown_callers()[0:10]][-1] == "+15550000004"


def test_unmatched_interactions_join_the_lookups_of_their_number(alice):
    now = timezone.now()
    lookup(now - timedelta(hours=5), "+15550000001")
    call(now - timedelta(hours=4), "+15550000001")
    call(now - timedelta(hours=1), "+15550000001")  # the number's latest sighting
    call(now - timedelta(hours=2), "+15550000002")  # seen only in an interaction
    call(now - timedelta(hours=2), "+15551234567", customer=alice)  # matched: not unknown
    call(now - timedelta(hours=2), "")  # withheld: no number to add
    call(now - timedelta(days=3), "+15550000003")  # before the window
    for _ in range(4):
        call(now - timedelta(hours=3), "+15550000009")
    CustomerPhoneFactory(number="+15550000009")  # owned by now (saving it matched those calls)
    rows = unknown_callers(now - timedelta(days=1))
    assert rows.count() == 2
    assert rows[0:50] == [
        {"phone_number": "+15550000001", "lookups": 1, "calls": 2, "last_seen": now - timedelta(hours=1)},
        {"phone_number": "+15550000002", "lookups": 0, "calls": 1, "last_seen": now - timedelta(hours=2)},
    ]
    assert unknown_callers().count() == 3
    assert unknown_callers()[2:3] == [
        {"phone_number": "+15550000003", "lookups": 0, "calls": 1, "last_seen": now - timedelta(days=3)}
    ]


def test_lookups_and_calls_together_decide_the_order():
    now = timezone.now()
    for _ in range(2):
        lookup(now - timedelta(hours=1), "+15550000001")
    for _ in range(3):
        call(now - timedelta(hours=2), "+15550000002")
    lookup(now - timedelta(hours=3), "+15550000003")
    call(now - timedelta(hours=3), "+15550000003")
    call(now - timedelta(hours=4), "+15550000003")
    ordered = [(r["phone_number"], r["lookups"], r["calls"]) for r in unknown_callers(now - timedelta(days=1))[0:3]]
    # 3 sightings each for ...02 and ...03 (...02 seen later), then ...01 with 2.
    assert ordered == [("+15550000002", 0, 3), ("+15550000003", 1, 2), ("+15550000001", 2, 0)]


def test_last_seen_is_the_later_of_the_lookups_and_the_calls():
    now = timezone.now().replace(microsecond=0)
    call(now - timedelta(hours=4), "+15550000001")
    lookup(now - timedelta(hours=1), "+15550000001")  # looked up again after the call
    lookup(now - timedelta(hours=2), "+15550000002")
    # Half a second after a whole-second lookup: SQLite compares the stored texts of the two times.
    call(now - timedelta(hours=2) + timedelta(milliseconds=500), "+15550000002")
    assert unknown_callers(now - timedelta(days=1))[0:10] == [
        {"phone_number": "+15550000001", "lookups": 1, "calls": 1, "last_seen": now - timedelta(hours=1)},
        {
            "phone_number": "+15550000002",
            "lookups": 1,
            "calls": 1,
            "last_seen": now - timedelta(hours=2) + timedelta(milliseconds=500),
        },
    ]


def test_only_bounded_slices_are_read():
    with pytest.raises(TypeError, match=r"^UnknownCallers takes a bounded slice such as \[0:20\]$"):
        unknown_callers()[5:]
