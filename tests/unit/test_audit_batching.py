"""Audit rows written in batches: by time, at worker exit, and what a failure loses."""

import json
import os
import socket
import subprocess
import time

import pytest
from django.db import DataError, OperationalError
from django.test import override_settings

from lookup import audit
from lookup.models import AuditBatch, LookupEvent
from tests.contract import ALICE_BODY
from tests.servers import gunicorn, http

ROW = {"outcome": "success", "token_name": "t", "phone_number": "+15551234567", "customer_id": None}


@pytest.fixture(autouse=True)
def fresh_writer(monkeypatch, tmp_path):
    """Each test gets its own buffer, thread and spool folder (a thread keeps the interval it started with)."""
    writer = audit.AuditWriter()
    monkeypatch.setattr(audit, "_writer", writer)
    with override_settings(LOOKUP_AUDIT_SPOOL_DIR=str(tmp_path / "spool")):
        yield writer
    writer.stop()


def spooled(folder) -> dict[str, int]:
    """Spool file name -> number of rows in it (the first line names the batch)."""
    return {path.name: len(path.read_bytes().splitlines()) - 1 for path in sorted(folder.glob("*.spool"))}


def dead_pid() -> tuple[int, str]:
    """The pid and start time of a process that has exited."""
    proc = subprocess.Popen(["sleep", "5"])
    started = audit._start_time(proc.pid)
    proc.kill()
    proc.wait()
    return proc.pid, started


@pytest.mark.django_db(transaction=True)
@override_settings(LOOKUP_AUDIT_FLUSH_MS=60_000)
def test_each_row_is_spooled_until_its_batch_is_committed(tmp_path):
    folder = tmp_path / "spool"
    for ms in (1.0, 2.0):
        audit.record_lookup(**ROW, duration_ms=ms)
    me = f"{os.getpid()}-{audit._start_time(os.getpid())}-1.spool"
    assert spooled(folder) == {me: 2}
    assert audit.flush_pending() == 2
    assert spooled(folder) == {}  # committed: nothing left to replay
    audit.record_lookup(**ROW, duration_ms=3.0)
    assert spooled(folder) == {f"{os.getpid()}-{audit._start_time(os.getpid())}-2.spool": 1}


@pytest.mark.django_db(transaction=True)
def test_rows_spooled_by_a_dead_worker_are_written_by_the_next_flush(tmp_path):
    folder = tmp_path / "spool"
    folder.mkdir()
    pid, started = dead_pid()
    created = "2026-12-01T10:00:00.250000+00:00"
    lines = [json.dumps([created, "t", "+15551234567", "success", None, float(ms)]) for ms in (7, 8, 9)]
    header = json.dumps(f"{socket.gethostname()}/{pid}-{started}-4.spool")
    (folder / f"{pid}-{started}-4.spool").write_text("\n".join([header, *lines]) + "\n" + '["torn')
    # A live process's spool is its own business, even under a recycled pid.
    (folder / f"{os.getpid()}-0-1.spool").write_text('"old/1"\n' + lines[0] + "\n")
    live_name = f"{os.getppid()}-{audit._start_time(os.getppid())}-1.spool"
    (folder / live_name).write_text('"live/1"\n' + lines[0] + "\n")
    assert audit.flush_pending() == 4  # 3 rows + the file of an older process that once had this pid
    rows = LookupEvent.objects.order_by("duration_ms").values_list("outcome", "duration_ms", "created_at")
    assert [(o, d) for o, d, _ in rows] == [("success", 7.0), ("success", 7.0), ("success", 8.0), ("success", 9.0)]
    assert {c.isoformat() for _, _, c in rows} == {created}
    assert spooled(folder) == {live_name: 1}
    assert list(AuditBatch.objects.all()) == []  # the drained files are gone, and so are their marks


@pytest.mark.django_db(transaction=True)
@override_settings(LOOKUP_AUDIT_FLUSH_MS=60_000)
def test_a_batch_committed_before_its_worker_was_killed_is_not_written_again(tmp_path, fresh_writer):
    folder = tmp_path / "spool"
    for ms in (1.0, 2.0):
        audit.record_lookup(**ROW, duration_ms=ms)
    (spool,) = folder.glob("*.spool")
    left_behind = spool.read_bytes()  # what the file held when the batch committed
    assert fresh_writer.flush() == 2
    # Killed before deleting its file: a dead process's file, whose first line names the batch.
    pid, started = dead_pid()
    (folder / f"{pid}-{started}-1.spool").write_bytes(left_behind)
    assert list(AuditBatch.objects.values_list("name", flat=True)) == [f"{socket.gethostname()}/{spool.name}"]
    assert fresh_writer.drain_orphans() == 0
    assert sorted(LookupEvent.objects.values_list("duration_ms", flat=True)) == [1.0, 2.0]
    assert spooled(folder) == {}
    assert list(AuditBatch.objects.all()) == []


@pytest.mark.django_db(transaction=True)
@override_settings(LOOKUP_AUDIT_FLUSH_MS=60_000)
def test_a_committed_batch_mark_is_deleted_with_the_next_batch(fresh_writer):
    audit.record_lookup(**ROW, duration_ms=1.0)
    assert fresh_writer.flush() == 1
    (first,) = AuditBatch.objects.values_list("name", flat=True)
    audit.record_lookup(**ROW, duration_ms=2.0)
    assert fresh_writer.flush() == 1
    (second,) = AuditBatch.objects.values_list("name", flat=True)  # the first mark went in this transaction
    assert (first.endswith("-1.spool"), second.endswith("-2.spool")) == (True, True)
    assert audit.flush_pending() == 0
    assert list(AuditBatch.objects.all()) == []  # at exit: no next batch, deleted at once


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


@pytest.fixture
def two_buffered_rows(settings):
    """Two rows waiting in the buffer (and the spool), with a flush interval no test waits for."""
    settings.LOOKUP_AUDIT_FLUSH_MS = 60_000
    audit.record_lookup(**ROW, duration_ms=1.0)
    audit.record_lookup(**ROW, duration_ms=2.0)


def flush_failing_with(error: Exception, monkeypatch) -> int:
    """flush_pending() while every write raises `error`; writes work again afterwards."""

    def fail(rows, **marks):
        raise error

    with monkeypatch.context() as patch:
        patch.setattr(audit, "write_rows", fail)
        return audit.flush_pending()


@pytest.mark.django_db(transaction=True)
def test_a_refused_batch_is_logged_and_dropped(two_buffered_rows, monkeypatch, caplog, tmp_path):
    assert flush_failing_with(DataError("value too long"), monkeypatch) == 0
    assert "lost 2 lookup audit rows: the database refused them" in caplog.text
    assert audit.flush_pending() == 0  # dropped, not retried forever
    assert spooled(tmp_path / "spool") == {}


@pytest.mark.django_db(transaction=True)
def test_rows_wait_for_an_unreachable_database(two_buffered_rows, monkeypatch, caplog, tmp_path):
    assert flush_failing_with(OperationalError("connection refused"), monkeypatch) == 0
    assert "database unreachable, 2 rows kept for the next flush" in caplog.text
    audit.record_lookup(**ROW, duration_ms=3.0)
    assert sum(spooled(tmp_path / "spool").values()) == 3  # still on disk, should this worker be killed now
    assert audit.flush_pending() == 3
    assert sorted(LookupEvent.objects.values_list("duration_ms", flat=True)) == [1.0, 2.0, 3.0]
    assert spooled(tmp_path / "spool") == {}


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


@pytest.mark.django_db(transaction=True)
@override_settings(LOOKUP_AUDIT_FLUSH_MS=60_000)
def test_a_spool_folder_open_to_others_is_not_used(tmp_path, caplog):
    folder = tmp_path / "spool"
    folder.mkdir(mode=0o777)
    folder.chmod(0o777)  # as if another user had made it first under a shared temp dir
    audit.record_lookup(**ROW, duration_ms=1.0)
    assert spooled(folder) == {}
    assert "no lookup audit spool" in caplog.text
    assert audit.flush_pending() == 1  # the row itself is kept in memory and written as before


def test_a_killed_worker_not_reaped_yet_counts_as_dead():
    proc = subprocess.Popen(["sleep", "30"])
    assert audit._start_time(proc.pid) is not None
    proc.kill()
    deadline = time.monotonic() + 5
    while audit._start_time(proc.pid) is not None and time.monotonic() < deadline:
        time.sleep(0.01)  # killed, not waited for: a zombie, as under a parent that does not reap
    assert audit._start_time(proc.pid) is None
    proc.wait()
