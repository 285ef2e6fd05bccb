"""Optional read replica for lookups (design §10): enabled when DATABASE_REPLICA_URL is set."""

from lookup.contract import REPLICA_OK_HINT

REPLICA = "replica"


class LookupReplicaRouter:
    """The lookup's customer query reads from the replica; everything else uses the primary.

    Only reads that pass the REPLICA_OK_HINT hint move: tokens (revocation must act at once),
    the admin (read-your-writes) and every write stay on "default".
    """

    def db_for_read(self, model, **hints):
        return REPLICA if hints.get(REPLICA_OK_HINT) else None

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # same data on both: the replica is a copy of the primary

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"  # the replica receives the schema by replication
