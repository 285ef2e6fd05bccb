"""Audit rows written in batches: by time, at worker exit, and what a failure loses."""

import json
import time

import pytest
from django.db import DatabaseError
from django.test import override_settings

from lookup import audit
from lookup.models import LookupEvent
from tests.contract import ALICE_BODY
from tests.servers import gunicorn, http

ROW = {"outcome": "success", "token_name": "t", "phone_number": "+15551234567", "customer_id": None}


@pytest.fixture(autouse=True)
def fresh_writer(monkeypatch):
    """Each test gets its own buffer and thread (a thread keeps the interval it started with)."""
    writer = audit.AuditWriter()
    monkeypatch.setattr(audit, "_writer", writer)
    yield
    writer.stop()


@pytest.mark.django_db(transaction=True)
@override_settings(LOOKUP_AUDIT_FLUSH_MS=60_000)
def test_rows_wait_in_the_buffer_until_flushed():
    for ms in (1.0, 2.0, 3.0):
        audit.record_lookup(**ROW, duration_ms=ms)
    assert LookupEvent.objects.count() == 0
    assert audit.flush_pending() == 3
    assert sorted(LookupEvent.objects.values_list("duration_ms", flat=True)) == [1.0, 2.0, 3.0]
    assert audit.flush_pending() == 0


@pytest.mark.django_db(transaction=True)
@override_settings(LOOKUP_AUDIT_FLUSH_MS=50)
def test_background_thread_writes_rows_within_the_interval():
    audit.record_lookup(**ROW, duration_ms=1.5)
    deadline = time.monotonic() + 3
    while not LookupEvent.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert list(LookupEvent.objects.values_list("outcome", "phone_number", "duration_ms")) == [
        ("success", "+15551234567", 1.5)
    ]


@pytest.mark.django_db(transaction=True)
@override_settings(LOOKUP_AUDIT_FLUSH_MS=60_000)
def test_a_refused_batch_is_logged_and_dropped(monkeypatch, caplog):
    audit.record_lookup(**ROW, duration_ms=1.0)
    audit.record_lookup(**ROW, duration_ms=2.0)

    def refuse(rows):
        raise DatabaseError("database is down")

    monkeypatch.setattr(audit, "write_rows", refuse)
    assert audit.flush_pending() == 0
    assert "lost 2 lookup audit rows: the database refused them" in caplog.text
    monkeypatch.undo()
    assert audit.flush_pending() == 0  # dropped, not retried forever


@pytest.mark.server
@pytest.mark.django_db(transaction=True)
def test_stopping_gunicorn_writes_every_buffered_row(alice, token):
    # Rows would wait a minute: only the worker_exit hook can have written them.
    with gunicorn(workers=2, env={"LOOKUP_AUDIT_FLUSH_MS": "60000"}) as (url, _):
        for _ in range(20):
            status, _, body = http(
                "POST",
                f"{url}/api/customer/lookup",
                body=json.dumps({"phoneNumber": "+15551234567"}).encode(),
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
            )
            assert (status, body) == (200, ALICE_BODY)
        assert LookupEvent.objects.count() == 0
    assert LookupEvent.objects.filter(outcome="success", token_name="genesys-test").count() == 20


@override_settings(LOOKUP_AUDIT_FLUSH_MS=10)
def test_the_writer_thread_survives_an_unexpected_error(monkeypatch, caplog):
    calls = []

    def broken_flush():
        calls.append(1)
        raise RuntimeError("unexpected")

    monkeypatch.setattr(audit._writer, "flush", broken_flush)
    audit._writer.add(("row",))  # never taken out of the buffer: the thread retries each interval
    deadline = time.monotonic() + 3
    while len(calls) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(calls) >= 3  # it kept running after the first failure
    assert "lookup audit flush failed" in caplog.text
