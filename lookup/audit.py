"""Writing the audit trail of lookups: a few rows per transaction, every LOOKUP_AUDIT_FLUSH_MS."""

import logging
import os
import threading

from django.conf import settings
from django.db import DatabaseError, connections, router, transaction
from django.utils import timezone

from lookup.metrics import observe_lookup
from lookup.models import LookupEvent

logger = logging.getLogger(__name__)

# Plain SQL: through the ORM, building the statement cost more CPU than the database spent on it.
_INSERT = (
    f"INSERT INTO {LookupEvent._meta.db_table}"
    " (created_at, token_name, phone_number, outcome, customer_id, duration_ms) VALUES (%s, %s, %s, %s, %s, %s)"
)
# set_config(..., true) in RETURNING applies to this statement's own transaction only.
_INSERT_ONE_POSTGRESQL = f"{_INSERT} RETURNING set_config('synchronous_commit', 'off', true)"


def record_lookup(
    *, outcome: str, token_name: str, phone_number: str | None, customer_id: int | None, duration_ms: float
) -> None:
    """Count one lookup for /metrics and store its LookupEvent: every outcome passes here."""
    observe_lookup(outcome, duration_ms)
    row = (timezone.now(), token_name, phone_number or LookupEvent.NO_NUMBER_TEXT, outcome, customer_id)
    row += (round(duration_ms, 3),)
    if settings.LOOKUP_AUDIT_FLUSH_MS > 0:
        _writer.add(row)
    else:
        write_rows([row])


def write_rows(rows: list[tuple]) -> None:
    """Insert audit rows in one transaction (one write lock on SQLite, one commit on PostgreSQL).

    On PostgreSQL that commit does not wait for the WAL flush: a PostgreSQL crash may lose the
    last fraction of a second of audit rows, never corrupt them. Customer data, tokens and
    admin edits keep synchronous commits.
    """
    alias = router.db_for_write(LookupEvent)
    connection = connections[alias]
    adapt = connection.ops.adapt_datetimefield_value
    params = [(adapt(created_at), *rest) for created_at, *rest in rows]
    postgresql = connection.vendor == "postgresql"
    if len(params) == 1:  # one statement is its own transaction: one round trip
        with connection.cursor() as cursor:
            cursor.execute(_INSERT_ONE_POSTGRESQL if postgresql else _INSERT, params[0])
        return
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        if postgresql:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        cursor.executemany(_INSERT, params)


class AuditWriter:
    """Buffers audit rows in this process and writes them from a background thread.

    A write per lookup was a third of a lookup's cost on SQLite (one write lock and WAL commit
    each). Rows wait at most LOOKUP_AUDIT_FLUSH_MS; gunicorn's worker_exit hook flushes the
    rest, so only a killed process (SIGKILL, OOM) loses its last interval of rows.
    """

    def __init__(self):
        self.rows: list[tuple] = []
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.pid: int | None = None

    def add(self, row: tuple) -> None:
        with self.lock:
            self.rows.append(row)
            if self.pid != os.getpid():  # first row in this process (threads do not survive fork)
                self.pid = os.getpid()
                threading.Thread(target=self._run, name="lookup-audit", daemon=True).start()

    def flush(self) -> int:
        """Write the buffered rows now; the number written."""
        with self.lock:
            rows, self.rows = self.rows, []
        if not rows:
            return 0
        try:
            write_rows(rows)
        except DatabaseError:
            # The lookups were answered (or refused) already; their rows cannot wait forever.
            logger.exception("lost %d lookup audit rows: the database refused them", len(rows))
            return 0
        return len(rows)

    def stop(self) -> None:
        """End the background thread (after its current wait); buffered rows stay for flush()."""
        self.stopped.set()

    def _run(self) -> None:
        while not self.stopped.wait(max(settings.LOOKUP_AUDIT_FLUSH_MS, 10) / 1000):
            if not self.rows:
                continue  # an idle worker does not touch the database
            try:
                # This thread's own connection: drop it if a database restart broke it.
                connections[router.db_for_write(LookupEvent)].close_if_unusable_or_obsolete()
                self.flush()
            except Exception:
                # Whatever went wrong, the thread must live on: it is the only writer of the rows.
                logger.exception("lookup audit flush failed")


_writer = AuditWriter()


def flush_pending() -> int:
    """Write this process's buffered audit rows (gunicorn calls it when a worker exits)."""
    return _writer.flush()
