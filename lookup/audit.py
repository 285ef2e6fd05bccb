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


def record_lookup(
    *, outcome: str, token_name: str, phone_number: str | None, customer_id: int | None, duration_ms: float
) -> None:
    """Store one LookupEvent (a single INSERT) and count it for /metrics: every outcome passes here."""
    observe_lookup(outcome, duration_ms)
    connection = connections[router.db_for_write(LookupEvent)]
    created_at = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT,
            [
                created_at,
                token_name,
                phone_number or LookupEvent.NO_NUMBER_TEXT,
                outcome,
                customer_id,
                round(duration_ms, 3),
            ],
        )
