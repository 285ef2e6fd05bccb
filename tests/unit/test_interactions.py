"""Recording conversation events: merge, idempotence, matching, last interaction date, retention."""

import datetime as dt
import itertools
from dataclasses import replace
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from crm.interactions import (
    AFTER_CALL_WORK,
    CREATED,
    CUSTOMER_END,
    UNCHANGED,
    UPDATED,
    InteractionEvent,
    customer_touch_last_interaction,
    interaction_record,
    interactions_claim,
)
from crm.models import Customer, CustomerPhone, Interaction
from tests.factories import InteractionFactory

pytestmark = pytest.mark.django_db

UTC = dt.UTC
CONV = "5b0b9c8e-4a5f-4f3e-9d7a-0c2e8f6a1b23"
END_AT = dt.datetime(2024, 3, 5, 14, 30, 0, tzinfo=UTC)
ACW_AT = dt.datetime(2024, 3, 5, 14, 32, 30, tzinfo=UTC)

# What each event of the conversation carries: the caller's call at its end, the agent's wrap-up after it.
CALLER = {"ani": "tel:+15551234567", "dnis": "tel:+18005550100", "direction": "inbound", "media_type": "voice"}
WRAPUP = {
    "queue_id": "queue-support",
    "user_id": "agent-7",
    "wrapup_code": "Resolved",
    "wrapup_notes": "Reset the router.",
}


def customer_end(**changes) -> InteractionEvent:
    sent = InteractionEvent(CONV, CUSTOMER_END, END_AT, **CALLER, disconnect_type="peer", duration_ms=95_000)
    return replace(sent, **changes)


def after_call_work(**changes) -> InteractionEvent:
    return replace(InteractionEvent(CONV, AFTER_CALL_WORK, ACW_AT, **WRAPUP), **changes)


def row(interaction: Interaction) -> dict:
    return {
        field: getattr(interaction, field)
        for field in [
            "conversation_id",
            "customer_id",
            "ani",
            "dnis",
            "direction",
            "media_type",
            "disconnect_type",
            "started_at",
            "ended_at",
            "duration_ms",
            "queue_id",
            "agent_id",
            "wrapup_code",
            "wrapup_notes",
            "wrapup_at",
            "occurred_at",
        ]
    }


def test_both_events_merge_into_one_interaction_matched_by_ani(alice):
    first = interaction_record(event=customer_end())
    second = interaction_record(event=after_call_work())
    assert (first.outcome, second.outcome) == (CREATED, UPDATED)
    assert row(Interaction.objects.get()) == {
        "conversation_id": CONV,
        "customer_id": alice.pk,
        "ani": "+15551234567",
        "dnis": "tel:+18005550100",
        "direction": "inbound",
        "media_type": "voice",
        "disconnect_type": "peer",
        "started_at": END_AT - dt.timedelta(seconds=95),
        "ended_at": END_AT,
        "duration_ms": 95_000,
        "queue_id": "queue-support",
        "agent_id": "agent-7",
        "wrapup_code": "Resolved",
        "wrapup_notes": "Reset the router.",
        "wrapup_at": ACW_AT,
        "occurred_at": ACW_AT,
    }


@pytest.mark.parametrize(
    "order", sorted(set(itertools.permutations(["end", "acw", "end", "acw"]))), ids=lambda order: "-".join(order)
)
def test_any_order_with_duplicates_gives_the_same_row(alice, order):
    events = {"end": customer_end, "acw": after_call_work}
    outcomes = [interaction_record(event=events[name]()).outcome for name in order]
    assert Interaction.objects.count() == 1
    interaction = Interaction.objects.get()
    assert row(interaction)["customer_id"] == alice.pk
    assert (interaction.wrapup_code, interaction.ended_at, interaction.occurred_at) == ("Resolved", END_AT, ACW_AT)
    # The first creates, each kind's first arrival updates, every duplicate changes nothing.
    assert outcomes.count(CREATED) == 1 and outcomes.count(UNCHANGED) == 2


def test_a_duplicate_event_writes_nothing(alice):
    interaction_record(event=customer_end())
    before = Interaction.objects.get()
    result = interaction_record(event=customer_end())
    assert result.outcome == UNCHANGED
    after = Interaction.objects.get()
    assert after.updated_at == before.updated_at


def test_the_latest_wrapup_wins_whatever_the_order(alice):
    later = after_call_work(event_time=ACW_AT + dt.timedelta(minutes=5), user_id="agent-9", wrapup_code="Escalated")
    interaction_record(event=later)
    interaction_record(event=after_call_work())  # an earlier agent's wrap-up, arriving late
    interaction = Interaction.objects.get()
    assert (interaction.agent_id, interaction.wrapup_code) == ("agent-9", "Escalated")


def test_unknown_caller_stays_unmatched(db):
    interaction_record(event=customer_end(ani="+15550001111"))
    assert Interaction.objects.get().customer_id is None


def test_a_phone_saved_later_claims_that_numbers_unknown_calls(alice, bob):
    now = timezone.now()
    earlier = InteractionFactory(ani="+15550001111", occurred_at=now - dt.timedelta(days=9))
    latest = InteractionFactory(ani="+15550001111", occurred_at=now - dt.timedelta(days=2))
    bobs = InteractionFactory(ani="+15550001111", customer=bob, occurred_at=now)  # his while the number was his
    other = InteractionFactory(ani="+15550002222")
    CustomerPhone.objects.create(customer=alice, number="+15550001111")
    owners = dict(Interaction.objects.values_list("pk", "customer_id"))
    assert owners == {earlier.pk: alice.pk, latest.pk: alice.pk, bobs.pk: bob.pk, other.pk: None}
    alice.refresh_from_db()
    bob.refresh_from_db()
    assert alice.last_interaction_date == timezone.localdate(latest.occurred_at)
    assert bob.last_interaction_date == dt.date(2023, 11, 1)  # the fixture's: his call was not claimed


def test_a_phone_with_no_unknown_calls_costs_one_more_query(alice, django_assert_num_queries):
    InteractionFactory(ani="+15550002222")
    with django_assert_num_queries(3):  # the INSERT, its history row, the UPDATE that finds nothing to claim
        CustomerPhone.objects.create(customer=alice, number="+15550001111")
    assert Interaction.objects.get().customer_id is None


def test_the_claim_is_undone_with_the_phone(alice):
    InteractionFactory(ani="+15550001111")
    with pytest.raises(RuntimeError), transaction.atomic():
        CustomerPhone.objects.create(customer=alice, number="+15550001111")
        assert Interaction.objects.get().customer_id == alice.pk
        raise RuntimeError("the admin form failed after the phone was saved")
    assert Interaction.objects.get().customer_id is None
    assert not CustomerPhone.objects.filter(number="+15550001111").exists()


def test_claim_counts_what_it_matched_and_ignores_empty_numbers(alice):
    InteractionFactory(ani="")
    InteractionFactory(ani="+15551234567")  # alice's number, recorded as unmatched (e.g. before her phone)
    assert interactions_claim(numbers=["", "+15551234567"]) == 1
    assert interactions_claim(numbers=["+15551234567"]) == 0
    assert interactions_claim(numbers=[""]) == 0
    assert list(Interaction.objects.order_by("ani").values_list("ani", "customer_id")) == [
        ("", None),
        ("+15551234567", alice.pk),
    ]


def test_withheld_number_is_stored_as_no_number(db):
    interaction_record(event=customer_end(ani="sip:anonymous@anonymous.invalid"))
    interaction = Interaction.objects.get()
    assert (interaction.ani, interaction.customer_id) == ("", None)


def test_wrapup_first_then_customer_end_matches_and_dates_the_customer(alice):
    interaction_record(event=after_call_work())
    assert Interaction.objects.get().customer_id is None
    interaction_record(event=customer_end())
    alice.refresh_from_db()
    assert Interaction.objects.get().customer_id == alice.pk
    assert alice.last_interaction_date == dt.date(2024, 3, 5)


def test_last_interaction_date_never_moves_backwards(alice):
    interaction_record(event=customer_end())
    older = customer_end(conversation_id="older", event_time=END_AT - dt.timedelta(days=30))
    interaction_record(event=older)
    alice.refresh_from_db()
    assert alice.last_interaction_date == dt.date(2024, 3, 5)


def test_staff_edit_to_a_later_date_is_kept(alice):
    Customer.objects.filter(pk=alice.pk).update(last_interaction_date=dt.date(2030, 1, 1))
    interaction_record(event=customer_end())
    alice.refresh_from_db()
    assert alice.last_interaction_date == dt.date(2030, 1, 1)


@override_settings(TIME_ZONE="America/New_York")
def test_last_interaction_date_is_the_date_in_time_zone(alice):
    # 02:00 UTC on 6 March is still 5 March in New York.
    interaction_record(event=customer_end(event_time=dt.datetime(2024, 3, 6, 2, 0, tzinfo=UTC), duration_ms=None))
    alice.refresh_from_db()
    assert alice.last_interaction_date == dt.date(2024, 3, 5)


def test_touch_reports_whether_it_moved_the_date(alice):
    assert customer_touch_last_interaction(customer_pk=alice.pk, when=END_AT) is True
    assert customer_touch_last_interaction(customer_pk=alice.pk, when=END_AT) is False


def test_events_without_optional_fields_keep_what_is_known(alice):
    interaction_record(event=customer_end())
    interaction_record(event=customer_end(dnis=None, direction=None, disconnect_type=None))
    assert (Interaction.objects.get().dnis, Interaction.objects.get().direction) == ("tel:+18005550100", "inbound")


def test_unknown_event_kind_is_refused(db):
    with pytest.raises(ValueError, match="unknown event 'transfer'"):
        interaction_record(event=customer_end(event="transfer"))


def test_prune_interactions_deletes_only_old_ones(db):
    now = timezone.now()
    InteractionFactory(conversation_id="old", occurred_at=now - dt.timedelta(days=40))
    InteractionFactory(conversation_id="new", occurred_at=now - dt.timedelta(days=2))
    out = StringIO()
    call_command("prune_interactions", "--days", "30", stdout=out)
    assert out.getvalue().startswith("Deleted 1 interactions older than ")
    assert list(Interaction.objects.values_list("conversation_id", flat=True)) == ["new"]


def test_prune_interactions_dry_run_deletes_nothing(db):
    InteractionFactory(conversation_id="old", occurred_at=timezone.now() - dt.timedelta(days=40))
    out = StringIO()
    call_command("prune_interactions", "--days", "30", "--dry-run", stdout=out)
    assert out.getvalue().startswith("Would delete 1 interactions older than ")
    assert Interaction.objects.count() == 1


def test_prune_interactions_refuses_zero_days(db):
    with pytest.raises(CommandError, match=r"^--days must be between 1 and 36500 \(got 0\)\.$"):
        call_command("prune_interactions", "--days", "0")


@pytest.mark.django_db(transaction=True)
def test_concurrent_events_of_one_customer_keep_the_latest_date(alice):
    """Threads racing on one conversation and one customer: one row, and the latest date wins."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    days = [END_AT + dt.timedelta(days=n) for n in range(8)]
    jobs = [customer_end(conversation_id=f"conv-{n}", event_time=day) for n, day in enumerate(days)]
    jobs += [after_call_work(conversation_id="conv-shared", event_time=ACW_AT)] * 4
    jobs += [customer_end(conversation_id="conv-shared")] * 4

    def send(event):
        try:
            return interaction_record(event=event).outcome
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(send, reversed(jobs)))
    alice.refresh_from_db()
    assert alice.last_interaction_date == dt.date(2024, 3, 12)
    assert Interaction.objects.count() == 9
    assert outcomes.count(CREATED) == 9
    assert Interaction.objects.get(conversation_id="conv-shared").wrapup_code == "Resolved"


def test_a_wrapup_that_carries_the_caller_matches_before_the_customer_end(alice):
    interaction_record(event=after_call_work(ani="tel:+15551234567", direction="inbound", media_type="voice"))
    interaction = Interaction.objects.get()
    assert (interaction.customer_id, interaction.ani, interaction.direction) == (alice.pk, "+15551234567", "inbound")
    alice.refresh_from_db()
    assert alice.last_interaction_date == dt.date(2024, 3, 5)
    assert interaction_record(event=customer_end()).outcome == UPDATED
    assert row(Interaction.objects.get())["dnis"] == "tel:+18005550100"


def test_a_wrapup_never_overwrites_the_customer_ends_caller(alice, bob):
    interaction_record(event=customer_end())
    interaction_record(event=after_call_work(ani="+15559876543"))
    assert (Interaction.objects.get().customer_id, Interaction.objects.get().ani) == (alice.pk, "+15551234567")
