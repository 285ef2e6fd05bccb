"""Replica reads fail safe (design §10): the router's health state, the lookup's fallback, /healthz."""

import os
import time

import pytest
from django.db import DatabaseError, router
from django.test import override_settings
from prometheus_client import REGISTRY

from config.routers import LookupReplicaRouter, ReplicaMonitor, replica_reads
from crm.models import Customer
from tests.contract import ALICE_BODY, post

ROUTERS = ["config.routers.LookupReplicaRouter"]


def fallbacks(reason: str) -> float:
    return REGISTRY.get_sample_value("lookup_replica_fallbacks_total", {"reason": reason}) or 0.0


def manual(monitor: ReplicaMonitor, state: str = "ok", lag_ms: float | None = 0.0) -> ReplicaMonitor:
    """Set the state by hand; no checker thread is started for this process."""
    monitor.pid = os.getpid()
    monitor._set(state, lag_ms, "" if state == "ok" else "test")
    return monitor


@pytest.fixture
def replica_router():
    """The replica router installed for this test, its checker thread kept off."""
    with override_settings(DATABASE_ROUTERS=ROUTERS):
        installed = router.routers[0]
        manual(installed.monitor, "ok")
        yield installed
        installed.monitor.stop()


@pytest.mark.parametrize(
    ("state", "expected"),
    [("ok", "replica"), ("unknown", "default"), ("lagging", "default"), ("unreachable", "default")],
)
def test_lookup_reads_go_to_the_replica_only_while_it_is_healthy(state, expected):
    db_router = LookupReplicaRouter()
    manual(db_router.monitor, state)
    before = fallbacks(state)
    with replica_reads():
        assert db_router.db_for_read(Customer) == expected
    assert db_router.db_for_read(Customer) is None  # unmarked reads: the primary, whatever the state
    assert fallbacks(state) - before == (0 if state == "ok" else 1)


def test_a_stale_check_is_not_trusted():
    db_router = LookupReplicaRouter()
    monitor = manual(db_router.monitor, "ok")
    monitor.checked_at = time.monotonic() - 10  # the checker thread hung on a dead replica
    assert db_router.db_for_read(Customer, replica_ok=True) == "default"
    assert monitor.as_dict() == {"state": "stale", "lag_ms": 0.0}


def test_a_failed_replica_read_marks_it_down_until_the_next_good_check():
    db_router = LookupReplicaRouter()
    manual(db_router.monitor, "ok")
    before = fallbacks("error")
    assert db_router.db_for_read(Customer, replica_failed=DatabaseError("connection refused")) == "default"
    assert fallbacks("error") - before == 1
    assert db_router.db_for_read(Customer, replica_ok=True) == "default"
    assert db_router.replica_state() == {"state": "unreachable", "lag_ms": None, "error": "connection refused"}
    manual(db_router.monitor, "ok")  # the next check found it healthy: reads move back by themselves
    assert db_router.db_for_read(Customer, replica_ok=True) == "replica"


@pytest.mark.django_db
def test_check_measures_a_reachable_database_as_ok_with_its_lag():
    monitor = ReplicaMonitor(alias="default")  # the primary stands in: reachable, not in recovery, lag 0
    monitor.pid = os.getpid()
    monitor.check()
    assert (monitor.state, monitor.lag_ms, monitor.error) == ("ok", 0.0, "")


@pytest.mark.django_db
@override_settings(DATABASE_REPLICA_MAX_LAG_MS=-1)
def test_check_marks_a_replica_over_the_lag_bound_as_lagging():
    monitor = ReplicaMonitor(alias="default")
    monitor.pid = os.getpid()
    monitor.check()
    assert monitor.reason() == "lagging"


@pytest.mark.django_db
def test_check_marks_an_unreachable_replica(monkeypatch):
    monitor = ReplicaMonitor(alias="default")
    monitor.pid = os.getpid()

    def refuse():
        raise DatabaseError("could not connect to server: Connection refused")

    monkeypatch.setattr("django.db.backends.base.base.BaseDatabaseWrapper.cursor", lambda self: refuse())
    monitor.check()
    assert monitor.as_dict() == {
        "state": "unreachable",
        "lag_ms": None,
        "error": "could not connect to server: Connection refused",
    }


def test_the_checker_thread_starts_once_per_process_and_records_its_result(monkeypatch):
    monitor = ReplicaMonitor()
    calls = []
    monkeypatch.setattr(monitor, "check", lambda: (calls.append(1), monitor._set("ok", 3.0, "")))
    assert monitor.state == "unknown"  # nothing measured yet: the primary
    monitor.reason()  # starts the checker thread (racing it with an assertion here would be flaky)
    deadline = time.monotonic() + 3
    while monitor.reason() is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    monitor.stop()
    assert monitor.reason() is None
    assert monitor.as_dict() == {"state": "ok", "lag_ms": 3.0}


@pytest.mark.django_db
def test_lookup_answers_from_the_primary_when_the_replica_read_fails(api, alice, replica_router, monkeypatch):
    from lookup.api import views

    real = views.customer_by_phone
    used = []

    def replica_down(e164, using=None):
        used.append(using)
        if using == "replica":
            raise DatabaseError("server closed the connection unexpectedly")
        return real(e164, using=using)

    monkeypatch.setattr(views, "customer_by_phone", replica_down)
    response = post(api, {"phoneNumber": "+15551234567"})
    assert (response.status_code, response.content) == (200, ALICE_BODY)
    assert used == ["replica", "default"]
    post(api, {"phoneNumber": "+15551234567"})
    assert used[2:] == ["default"]  # marked down: the next lookup does not try the replica first


@pytest.mark.django_db
def test_healthz_reports_the_replica_state_without_failing(client, replica_router):
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok", "replica": {"state": "ok", "lag_ms": 0.0}})
    manual(replica_router.monitor, "lagging", 4200.0)
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (
        200,
        {"status": "ok", "replica": {"state": "lagging", "lag_ms": 4200.0, "error": "test"}},
    )


@pytest.mark.django_db
def test_healthz_without_a_replica_is_unchanged(client):
    assert client.get("/healthz").json() == {"status": "ok"}
