"""Writing the audit trail of lookups: a few rows per transaction, every LOOKUP_AUDIT_FLUSH_MS.

Rows wait in memory for their batch, and each is also appended to this process's spool file
(one write, no fsync) until its batch is committed. A killed worker (SIGKILL, OOM) leaves its
spool behind; another worker's next flush writes those rows. Only a machine crash can lose the
rows the operating system had not written to disk yet.

Exactly once: a batch commits an AuditBatch row naming its spool files in the same transaction,
so a worker killed after that commit but before it deleted the files leaves files that the next
drain recognises as written, instead of writing their rows a second time.
"""

import hashlib
import logging
import os
import socket
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import orjson
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connections, router, transaction
from django.utils import timezone

from crm.models import Customer
from lookup.metrics import observe_lookup
from lookup.models import AuditBatch, LookupEvent

logger = logging.getLogger(__name__)

# Plain SQL: through the ORM, building the statement cost more CPU than the database spent on it.
# The customer goes in through a primary-key subselect: a customer deleted while their row waited
# for its batch leaves NULL (as on_delete=SET_NULL would), instead of a foreign-key error that
# would refuse the whole batch, other callers' rows included.
_INSERT = (
    f"INSERT INTO {LookupEvent._meta.db_table}"
    " (created_at, token_name, phone_number, outcome, customer_id, duration_ms) VALUES (%s, %s, %s, %s,"
    f" (SELECT id FROM {Customer._meta.db_table} WHERE id = %s), %s)"
)
# set_config(..., true) in RETURNING applies to this statement's own transaction only.
_INSERT_ONE_POSTGRESQL = f"{_INSERT} RETURNING set_config('synchronous_commit', 'off', true)"
_MARK = f"INSERT INTO {AuditBatch._meta.db_table} (name, committed_at) VALUES (%s, %s)"
_IS_MARKED = f"SELECT 1 FROM {AuditBatch._meta.db_table} WHERE name = %s"


def _unmark(names) -> str:
    return f"DELETE FROM {AuditBatch._meta.db_table} WHERE name IN ({', '.join(['%s'] * len(names))})"


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


def write_rows(rows: list[tuple], *, batches=(), forget=()) -> None:
    """Insert audit rows in one transaction (one write lock on SQLite, one commit on PostgreSQL).

    `batches` names the spool files these rows came from, marked committed in the same
    transaction; `forget` names earlier marks whose files are gone, deleted in it too.
    On PostgreSQL that commit does not wait for the WAL flush: a PostgreSQL crash may lose the
    last fraction of a second of audit rows, never corrupt them. Customer data, tokens and
    admin edits keep synchronous commits.
    """
    alias = router.db_for_write(LookupEvent)
    connection = connections[alias]
    adapt = connection.ops.adapt_datetimefield_value
    params = [(adapt(created_at), *rest) for created_at, *rest in rows]
    postgresql = connection.vendor == "postgresql"
    if len(params) == 1 and not batches and not forget:  # one statement is its own transaction: one round trip
        with connection.cursor() as cursor:
            cursor.execute(_INSERT_ONE_POSTGRESQL if postgresql else _INSERT, params[0])
        return
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        if postgresql:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        if forget:
            cursor.execute(_unmark(forget), list(forget))
        if params:
            cursor.executemany(_INSERT, params)
        if batches:
            now = adapt(timezone.now())
            cursor.executemany(_MARK, [(name, now) for name in batches])


def _is_marked(name: str) -> bool:
    with connections[router.db_for_write(LookupEvent)].cursor() as cursor:
        cursor.execute(_IS_MARKED, [name])
        return cursor.fetchone() is not None


def _forget_marks(names: list[str]) -> None:
    """Delete marks whose spool files are gone (best effort: a mark left behind costs one small row)."""
    if not names:
        return
    try:
        with connections[router.db_for_write(LookupEvent)].cursor() as cursor:
            cursor.execute(_unmark(names), names)
    except DatabaseError:
        logger.warning("could not delete %d lookup audit batch marks; prune_lookup_events will", len(names))


def spool_dir() -> Path:
    """LOOKUP_AUDIT_SPOOL_DIR, or a folder per database under the temp dir (one machine's workers share it)."""
    if settings.LOOKUP_AUDIT_SPOOL_DIR:
        return Path(settings.LOOKUP_AUDIT_SPOOL_DIR)
    db = settings.DATABASES[router.db_for_write(LookupEvent)]
    # Keyed by database: rows spooled for one database must never be drained into another.
    key = hashlib.sha256(f"{db['ENGINE']}|{db.get('HOST')}|{db.get('PORT')}|{db['NAME']}".encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"crm-audit-spool-{key}"


def _start_time(pid: int) -> str | None:
    """The running process's start time in clock ticks (pids are reused; pid + start time are not), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # A killed worker nobody has reaped yet (a zombie) is dead: its rows must be drained.
    return None if fields[0] in ("Z", "X", "x") else fields[19]


def _alive(pid: int, started: str) -> bool:
    if Path("/proc/self/stat").exists():
        return _start_time(pid) == started
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def _parse(line: bytes) -> tuple | str:
    """A spool line: a row, or (the first line) the name of the batch as a JSON string."""
    value = orjson.loads(line)
    if isinstance(value, str):
        return value
    created_at, *rest = value
    return (datetime.fromisoformat(created_at), *rest)


class AuditWriter:
    """Buffers audit rows in this process and writes them from a background thread.

    A write per lookup was a third of a lookup's cost on SQLite (one write lock and WAL commit
    each). Rows wait at most LOOKUP_AUDIT_FLUSH_MS; gunicorn's worker_exit hook flushes the
    rest. Each row is also appended to a spool file named after this process
    (`<pid>-<start time>-<n>.spool`, its first line the batch name); a flush starts a new file,
    commits the rows with the file's AuditBatch mark, then deletes the file. A file left by a dead
    process holds rows that are either unwritten or marked as written.
    """

    ORPHAN_SCAN_S = 1.0

    def __init__(self):
        self.rows: list[tuple] = []
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.pid: int | None = None
        self.spool_fd: int | None = None
        self.spool_path: Path | None = None
        self.seq = 0
        self.spool_ok = False
        self.done_files: list[Path] = []  # closed spool files whose rows are not committed yet
        self.committed: list[str] = []  # marks of committed batches whose files are deleted
        self.scanned_at = 0.0

    def add(self, row: tuple) -> None:
        line = orjson.dumps(row) + b"\n"
        with self.lock:
            if self.pid != os.getpid():  # first row in this process (threads and files do not survive fork)
                self._start()
            if self.spool_fd is None and self.spool_ok:
                self._open_spool()
            if self.spool_fd is not None:
                os.write(self.spool_fd, line)  # O_APPEND: one write per lookup, no fsync
            self.rows.append(row)

    MAX_HELD_ROWS = 100_000  # rows kept in memory for an unreachable database, about 20 MB

    def flush(self) -> int:
        """Write the buffered rows now; the number written."""
        with self.lock:
            rows, self.rows = self.rows, []
            if rows:
                done = self._rotate()
                if done is not None:
                    self.done_files.append(done)
            # The rows and the files they were spooled in go together: one transaction, one mark each.
            files, self.done_files = (self.done_files, []) if rows else ([], self.done_files)
            forget, self.committed = self.committed, []
        if not rows:
            self._keep_forgetting(forget)
            return 0
        try:
            write_rows(rows, batches=[self._batch_name(path) for path in files], forget=forget)
        except (OperationalError, InterfaceError):
            # Unreachable (restart, PgBouncer bounce): keep the rows, in memory and in their spool files.
            with self.lock:
                self.committed[:0] = forget
                if len(rows) + len(self.rows) <= self.MAX_HELD_ROWS:
                    self.rows[:0] = rows
                    self.done_files[:0] = files
                    logger.warning("lookup audit: database unreachable, %d rows kept for the next flush", len(rows))
                    return 0
            logger.error("lost %d lookup audit rows: the database stayed unreachable", len(rows))
        except DatabaseError:
            # Refused (not unreachable): retrying would fail the same way; the rows cannot wait forever.
            logger.exception("lost %d lookup audit rows: the database refused them", len(rows))
            self._keep_forgetting(forget)
        else:
            for path in files:
                path.unlink(missing_ok=True)
            # Their marks go in the next batch's transaction: a mark must outlive its file.
            self._keep_forgetting([self._batch_name(path) for path in files])
            return len(rows)
        for path in files:
            path.unlink(missing_ok=True)
        return 0

    def _keep_forgetting(self, names: list[str]) -> None:
        with self.lock:
            self.committed.extend(names)

    def forget_committed(self) -> None:
        """Delete the marks of this process's committed batches now (at worker exit: no next batch)."""
        with self.lock:
            names, self.committed = self.committed, []
        _forget_marks(names)

    @staticmethod
    def _batch_name(path: Path) -> str:
        return f"{_HOST}/{path.name}"

    def drain_orphans(self) -> int:
        """Write the rows spooled by processes that died before their flush; the number written."""
        self.scanned_at = time.monotonic()
        folder = spool_dir()
        written = 0
        me = f"{os.getpid()}-{_start_time(os.getpid())}-"
        for path in sorted(folder.glob("*.spool")) if folder.is_dir() else []:
            try:
                pid, started, _ = path.name.split("-", 2)
                if path.name.startswith(me) or _alive(int(pid), started):
                    continue
                # Claimed under this process's name: if this process dies too, the next one drains it.
                self.seq += 1
                claimed = folder / f"{me}orphan{self.seq}.spool"
                path.rename(claimed)  # atomic: of two workers racing, one gets FileNotFoundError
            except (ValueError, FileNotFoundError):
                continue
            rows, batch = [], None
            for line in claimed.read_bytes().splitlines():
                try:
                    value = _parse(line)
                except (ValueError, TypeError):  # a torn last line (machine crash): nothing to save
                    logger.warning("skipped an unreadable lookup audit spool line in %s", path.name)
                    continue
                if isinstance(value, str):
                    batch = value
                else:
                    rows.append(value)
            try:
                if batch is not None and _is_marked(batch):
                    # Its owner died after committing these rows, before deleting the file.
                    logger.info("lookup audit rows spooled by dead process %s were already written", pid)
                    rows = []
                elif rows:
                    write_rows(rows, batches=[batch] if batch else [])
            except DatabaseError:
                claimed.rename(path)  # leave it for the next scan, under its dead owner's name
                logger.exception("could not write %d spooled lookup audit rows; kept for later", len(rows))
                continue
            claimed.unlink(missing_ok=True)
            if batch is not None:
                _forget_marks([batch])
            written += len(rows)
            if rows:
                logger.info("wrote %d lookup audit rows spooled by dead process %s", len(rows), pid)
        return written

    def stop(self) -> None:
        """End the background thread (after its current wait); buffered rows stay for flush()."""
        self.stopped.set()

    def _start(self) -> None:
        self.pid, self.rows, self.seq, self.done_files, self.committed = os.getpid(), [], 0, [], []
        self.spool_fd = self.spool_path = None
        try:
            folder = spool_dir()
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            info = folder.stat()
            if info.st_uid != os.getuid() or info.st_mode & 0o022:
                # Under a shared temp dir, a folder someone else made could feed rows into the audit.
                raise OSError(f"{folder} must belong to this user and be writable by no one else")
            self.spool_ok = True
        except OSError:
            logger.exception("no lookup audit spool: a killed worker will lose its unwritten rows")
            self.spool_ok = False
        threading.Thread(target=self._run, name="lookup-audit", daemon=True).start()

    def _open_spool(self) -> None:
        """Start this process's next spool file (caller holds the lock)."""
        self.seq += 1
        path = spool_dir() / f"{self.pid}-{_start_time(self.pid)}-{self.seq}.spool"
        try:
            self.spool_fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self.spool_path = path
            os.write(self.spool_fd, orjson.dumps(self._batch_name(path)) + b"\n")
        except OSError:
            logger.exception("lookup audit spool file could not be opened")

    def _rotate(self) -> Path | None:
        """Close the current spool file (caller holds the lock): the next row starts a new one. Its path."""
        previous = self.spool_path
        if self.spool_fd is not None:
            os.close(self.spool_fd)
        self.spool_fd = self.spool_path = None
        return previous

    def _run(self) -> None:
        stopped = self.stopped
        try:
            self.drain_orphans()  # rows left by the worker this one may be replacing
        except Exception:
            logger.exception("draining the lookup audit spool failed")
        while not stopped.wait(max(settings.LOOKUP_AUDIT_FLUSH_MS, 10) / 1000):
            try:
                if self.rows or time.monotonic() - self.scanned_at > self.ORPHAN_SCAN_S:
                    # This thread's own connection: drop it if a database restart broke it.
                    connections[router.db_for_write(LookupEvent)].close_if_unusable_or_obsolete()
                if self.rows:
                    self.flush()
                if time.monotonic() - self.scanned_at > self.ORPHAN_SCAN_S:
                    self.drain_orphans()
            except Exception:
                # Whatever went wrong, the thread must live on: it is the only writer of the rows.
                logger.exception("lookup audit flush failed")


_HOST = socket.gethostname()
_writer = AuditWriter()


def flush_pending() -> int:
    """Write this process's buffered audit rows and any a dead worker spooled (gunicorn calls it at worker exit)."""
    written = _writer.flush()
    try:
        written += _writer.drain_orphans()
    except Exception:
        logger.exception("draining the lookup audit spool failed")
    _writer.forget_committed()
    return written
