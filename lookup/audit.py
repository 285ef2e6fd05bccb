"""Writing the audit trail of lookups."""

from django.db import connections, router
from django.utils import timezone

from lookup.metrics import observe_lookup
from lookup.models import LookupEvent

# One plain INSERT on every lookup: through the ORM, building the statement cost more CPU
# than the database spent on it (README "Performance").
_INSERT = (
    f"INSERT INTO {LookupEvent._meta.db_table}"
    " (created_at, token_name, phone_number, outcome, customer_id, duration_ms) VALUES (%s, %s, %s, %s, %s, %s)"
)
# On PostgreSQL the audit row's commit does not wait for the WAL flush: set_config(..., true)
# in RETURNING applies to this statement's own transaction only, in the same round trip.
# A PostgreSQL crash may lose the last fraction of a second of audit rows; it never corrupts,
# and customer data, tokens and admin edits keep synchronous commits.
_INSERT_POSTGRESQL = f"{_INSERT} RETURNING set_config('synchronous_commit', 'off', true)"


def record_lookup(
    *, outcome: str, token_name: str, phone_number: str | None, customer_id: int | None, duration_ms: float
) -> None:
    """Store one LookupEvent (a single INSERT) and count it for /metrics: every outcome passes here."""
    observe_lookup(outcome, duration_ms)
    connection = connections[router.db_for_write(LookupEvent)]
    created_at = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT_POSTGRESQL if connection.vendor == "postgresql" else _INSERT,
            [
                created_at,
                token_name,
                phone_number or LookupEvent.NO_NUMBER_TEXT,
                outcome,
                customer_id,
                round(duration_ms, 3),
            ],
        )
