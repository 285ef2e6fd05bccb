"""Optional read replica for lookups (design §10): enabled when DATABASE_REPLICA_URL is set.

Replica reads fail safe. A background thread in each process checks the replica every
DATABASE_REPLICA_CHECK_MS (one query, never one per lookup); `db_for_read` only reads the
result. While the replica is unreachable, lagging more than DATABASE_REPLICA_MAX_LAG_MS, not
checked yet, or its last check is stale, lookups read the primary, and each such lookup counts
in `lookup_replica_fallbacks_total`. Once a check finds it healthy again, reads move back.

Staleness: no read-your-writes. An admin edit reaches lookups read from the replica within
DATABASE_REPLICA_MAX_LAG_MS + DATABASE_REPLICA_CHECK_MS (lag can grow for one check interval
before it is seen); tokens, audit writes and the admin always use the primary.
"""

import logging
import os
import threading
import time
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import DatabaseError, connections
from prometheus_client import Counter, Gauge

from lookup.contract import REPLICA_FAILED_HINT, REPLICA_OK_HINT

logger = logging.getLogger(__name__)

REPLICA = "replica"
_replica_reads: ContextVar[bool] = ContextVar("replica_reads", default=False)

FALLBACKS = Counter(
    "lookup_replica_fallbacks", "Lookups that read the primary because the replica was not usable.", ["reason"]
)
REPLICA_USABLE = Gauge(
    "lookup_replica_usable", "1 while this process reads lookups from the replica.", multiprocess_mode="livemin"
)
REPLICA_LAG = Gauge(
    "lookup_replica_lag_seconds", "Replay lag of the replica at its last check.", multiprocess_mode="livemax"
)

# Lag is the age of the last replayed transaction, but only while WAL is waiting to be replayed:
# a replica that has replayed everything it received is not behind, however idle the primary.
LAG_SQL = (
    "SELECT CASE WHEN NOT pg_is_in_recovery()"
    " OR pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0"
    " ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) * 1000, 0) END"
)


@contextmanager
def replica_reads():
    """Reads inside this block may go to the replica (when the router is enabled and it is healthy)."""
    reset = _replica_reads.set(True)
    try:
        yield
    finally:
        _replica_reads.reset(reset)


class ReplicaMonitor:
    """The replica's health as last measured by this process's checker thread."""

    def __init__(self, alias: str = REPLICA):
        self.alias = alias
        self.state = "unknown"  # unknown | ok | lagging | unreachable
        self.lag_ms: float | None = None
        self.error = ""
        self.checked_at = 0.0  # time.monotonic() of the last check
        self.pid: int | None = None
        self.stopped = threading.Event()
        self.lock = threading.Lock()

    @property
    def interval_s(self) -> float:
        return max(settings.DATABASE_REPLICA_CHECK_MS, 10) / 1000

    def reason(self) -> str | None:
        """Why the replica must not be read right now, or None when it may."""
        if self.pid != os.getpid():
            self._start()
        if self.state == "ok" and time.monotonic() - self.checked_at > 3 * self.interval_s:
            return "stale"  # the checker is stuck (a hung replica): trust nothing
        return None if self.state == "ok" else self.state

    def mark_failed(self, error: Exception) -> None:
        """A lookup's query failed on the replica: stop reading it until the next good check."""
        self._set("unreachable", None, str(error))

    def check(self) -> None:
        """Measure the replica once (one query) and record the state."""
        connection = connections[self.alias]
        try:
            with connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    cursor.execute(LAG_SQL)
                    lag_ms = float(cursor.fetchone()[0])
                else:
                    cursor.execute("SELECT 1")  # SQLite and others: reachable, no lag to measure
                    lag_ms = 0.0
        except DatabaseError as error:
            connection.close()  # reconnect at the next check
            self._set("unreachable", None, str(error).strip().splitlines()[0] if str(error).strip() else "error")
            return
        over = lag_ms > settings.DATABASE_REPLICA_MAX_LAG_MS
        self._set("lagging" if over else "ok", lag_ms, "")

    def as_dict(self) -> dict:
        """The replica's state for /healthz."""
        reason = self.reason()
        info = {"state": reason or "ok", "lag_ms": None if self.lag_ms is None else round(self.lag_ms, 1)}
        if self.error:
            info["error"] = self.error
        return info

    def stop(self) -> None:
        self.stopped.set()

    def _set(self, state: str, lag_ms: float | None, error: str) -> None:
        if state != self.state:
            log = logger.info if state == "ok" else logger.warning
            log("replica %s: %s (lag_ms=%s) %s", self.alias, state, lag_ms, error)
        self.state, self.lag_ms, self.error, self.checked_at = state, lag_ms, error, time.monotonic()
        REPLICA_USABLE.set(1 if state == "ok" else 0)
        if lag_ms is not None:
            REPLICA_LAG.set(lag_ms / 1000)

    def _start(self) -> None:
        with self.lock:
            if self.pid == os.getpid():
                return
            # A forked worker inherits the master's state but not its thread: start afresh.
            self.pid, self.state, self.checked_at = os.getpid(), "unknown", 0.0
            self.stopped = threading.Event()
            threading.Thread(target=self._run, name="replica-check", daemon=True).start()

    def _run(self) -> None:
        stopped = self.stopped
        while not stopped.is_set():
            try:
                self.check()
            except Exception:
                logger.exception("replica check failed")  # the thread must live on
            stopped.wait(self.interval_s)


class LookupReplicaRouter:
    """The lookup's customer query reads from the replica while it is healthy; everything else uses the primary.

    Only reads marked with `replica_reads()` (or the hint `replica_ok=True`) move: tokens
    (revocation must act at once), the admin (read-your-writes) and every write stay on "default".
    A lookup whose replica read failed passes `replica_failed=<exception>`: the replica is marked
    down at once and the answer is "default", so the lookup retries on the primary.
    """

    def __init__(self):
        self.monitor = ReplicaMonitor()

    def db_for_read(self, model, **hints):
        failed = hints.get(REPLICA_FAILED_HINT)
        if failed is not None:
            self.monitor.mark_failed(failed)
            FALLBACKS.labels("error").inc()
            return "default"
        if not (_replica_reads.get() or hints.get(REPLICA_OK_HINT)):
            return None
        reason = self.monitor.reason()
        if reason is None:
            return REPLICA
        FALLBACKS.labels(reason).inc()
        return "default"

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # same data on both: the replica is a copy of the primary

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"  # the replica receives the schema by replication

    def replica_state(self) -> dict:
        """The replica's state (for /healthz): state, lag_ms and the last error if any."""
        return self.monitor.as_dict()
