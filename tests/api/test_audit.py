"""Audit events for every lookup, their admin and retention."""

import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from lookup import audit
from lookup.models import AuditBatch, LookupEvent
from tests.contract import URL, audit_rows

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["inline", "batched"])
def audit_path(request, settings, monkeypatch):
    """Run a test through both ways an audit row is written; yields the way.

    tests/settings.py writes each row inline (LOOKUP_AUDIT_FLUSH_MS = 0). "batched" is the
    production path: rows wait in a fresh AuditWriter's buffer and audit_rows() writes them with
    flush_pending(), as gunicorn's worker_exit hook does. Its thread waits a minute, so it never
    writes concurrently with the test's own transaction (the timed thread has its own test below).
    """
    if request.param == "inline":
        yield "inline"
        return
    settings.LOOKUP_AUDIT_FLUSH_MS = 60_000
    writer = audit.AuditWriter()
    monkeypatch.setattr(audit, "_writer", writer)
    yield "batched"
    writer.stop()


def test_each_outcome_is_recorded(api, anon_api, alice, audit_path):
    api.post(URL, {"phoneNumber": "(555) 123-4567"}, format="json")
    api.post(URL, {"phoneNumber": "+15550000000"}, format="json")
    api.post(URL, {"phoneNumber": "anonymous"}, format="json")
    api.post(URL, {}, format="json")
    anon_api.post(URL, {"phoneNumber": "+15551234567"}, format="json")
    # Batched, nothing is written before the flush: the buffer really was the path taken.
    assert LookupEvent.objects.count() == (5 if audit_path == "inline" else 0)
    assert audit_rows() == [
        ("success", "genesys-test", "+15551234567", alice.pk),
        ("not_found", "genesys-test", "+15550000000", None),
        ("no_number", "genesys-test", "none", None),
        ("bad_request", "genesys-test", "none", None),
        ("unauthorized", "", "none", None),
    ]


def test_duration_is_recorded(api, alice, audit_path):
    api.post(URL, {"phoneNumber": "+15551234567"}, format="json")
    audit.flush_pending()
    event = LookupEvent.objects.get()
    assert 0 < event.duration_ms < 3000
    assert timezone.now() - event.created_at < timedelta(minutes=1)


def test_audit_admin_is_read_only_and_filterable(admin_client, api, alice, audit_path):
    api.post(URL, {"phoneNumber": "+15551234567"}, format="json")
    api.post(URL, {"phoneNumber": "+15550000000"}, format="json")
    audit.flush_pending()
    changelist = reverse("admin:lookup_lookupevent_changelist")
    response = admin_client.get(changelist, {"outcome": "success"})
    assert response.status_code == 200
    assert [e.outcome for e in response.context["cl"].result_list] == ["success"]
    assert reverse("admin:crm_customer_change", args=[alice.pk]) in response.content.decode()
    assert admin_client.get(changelist, {"token_name": "genesys-test"}).status_code == 200
    assert admin_client.get(reverse("admin:lookup_lookupevent_add")).status_code == 403
    event = LookupEvent.objects.first()
    page = admin_client.get(reverse("admin:lookup_lookupevent_change", args=[event.pk]))
    assert page.status_code == 200
    assert 'name="outcome"' not in page.content.decode()


def test_prune_deletes_only_old_events():
    now = timezone.now()
    for days in (0, 5, 40, 100):
        LookupEvent.objects.create(outcome="success", duration_ms=1, created_at=now - timedelta(days=days))
    out = StringIO()
    call_command("prune_lookup_events", days=30, stdout=out)
    assert out.getvalue().startswith("Deleted 2 lookup events older than ")
    assert LookupEvent.objects.count() == 2


def test_prune_deletes_old_audit_batch_marks():
    now = timezone.now()
    for days in (0, 40):
        AuditBatch.objects.create(name=f"host/{days}", committed_at=now - timedelta(days=days))
    call_command("prune_lookup_events", days=30, stdout=StringIO())
    assert list(AuditBatch.objects.values_list("name", flat=True)) == ["host/0"]


def test_prune_dry_run_deletes_nothing():
    LookupEvent.objects.create(outcome="success", duration_ms=1, created_at=timezone.now() - timedelta(days=90))
    out = StringIO()
    call_command("prune_lookup_events", days=30, dry_run=True, stdout=out)
    assert out.getvalue().startswith("Would delete 1 lookup events older than ")
    assert LookupEvent.objects.count() == 1


def test_prune_rejects_zero_days():
    with pytest.raises(CommandError, match=r"^--days must be between 1 and 36500 \(got 0\)\.$"):
        call_command("prune_lookup_events", days=0)


def test_deleting_a_customer_keeps_its_events(api, alice, audit_path):
    api.post(URL, {"phoneNumber": "+15551234567"}, format="json")
    audit.flush_pending()  # the row holds the customer before it goes
    alice.delete()
    assert audit_rows() == [("success", "genesys-test", "+15551234567", None)]


def test_a_customer_deleted_before_the_flush_loses_no_row(api, alice, bob, audit_path):
    api.post(URL, {"phoneNumber": "+15551234567"}, format="json")
    api.post(URL, {"phoneNumber": "+15559876543"}, format="json")
    alice.delete()  # batched: both rows still wait in the buffer
    assert audit_rows() == [
        ("success", "genesys-test", "+15551234567", None),
        ("success", "genesys-test", "+15559876543", bob.pk),
    ]


def test_plain_sql_insert_stores_the_same_row_as_the_orm(alice, audit_path):
    """Inline, each row is one INSERT; batched, both go in one executemany transaction."""
    before = timezone.now()
    audit.record_lookup(
        outcome="success", token_name="t", phone_number="+15551234567", customer_id=alice.pk, duration_ms=1.23456
    )
    audit.record_lookup(outcome="no_number", token_name="", phone_number=None, customer_id=None, duration_ms=0.5)
    assert audit.flush_pending() == (0 if audit_path == "inline" else 2)
    first, second = LookupEvent.objects.order_by("id")
    assert (first.outcome, first.token_name, first.phone_number, first.customer, first.duration_ms) == (
        "success",
        "t",
        "+15551234567",
        alice,
        1.235,
    )
    assert before <= first.created_at <= timezone.now()
    assert (second.outcome, second.phone_number, second.customer) == ("no_number", "none", None)


def test_any_accept_header_gets_json(api, alice):
    response = api.post(URL, {"phoneNumber": "+15551234567"}, format="json", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


@pytest.mark.django_db(transaction=True)
def test_the_production_interval_writes_a_lookup_from_the_background_thread(api, alice, settings, monkeypatch):
    """The whole production path in-process: view, buffer, and the writer thread's own connection."""
    settings.LOOKUP_AUDIT_FLUSH_MS = 100  # config.settings' default
    writer = audit.AuditWriter()
    monkeypatch.setattr(audit, "_writer", writer)
    try:
        api.post(URL, {"phoneNumber": "+15551234567"}, format="json")
        deadline = time.monotonic() + 10  # a loaded machine may be slow; the row usually lands in ~0.1 s
        while not LookupEvent.objects.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert list(LookupEvent.objects.values_list("outcome", "token_name", "phone_number", "customer_id")) == [
            ("success", "genesys-test", "+15551234567", alice.pk)
        ]
        assert writer.rows == []
    finally:
        writer.stop()
