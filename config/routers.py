"""Optional read replica for lookups (design §10): enabled when DATABASE_REPLICA_URL is set."""

from contextlib import contextmanager
from contextvars import ContextVar

REPLICA = "replica"
_replica_reads: ContextVar[bool] = ContextVar("replica_reads", default=False)


@contextmanager
def replica_reads():
    """Reads inside this block go to the replica (when the router is enabled)."""
    reset = _replica_reads.set(True)
    try:
        yield
    finally:
        _replica_reads.reset(reset)


class LookupReplicaRouter:
    """The lookup's customer query reads from the replica; everything else uses the primary.

    Only reads marked with `replica_reads()` move: tokens (revocation must act at once),
    the admin (read-your-writes) and every write stay on "default".
    """

    def db_for_read(self, model, **hints):
        return REPLICA if _replica_reads.get() else None

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # same data on both: the replica is a copy of the primary

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"  # the replica receives the schema by replication
