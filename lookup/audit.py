"""Writing the audit trail of lookups."""

from lookup.metrics import observe_lookup
from lookup.models import LookupEvent


def record_lookup(
    *, outcome: str, token_name: str, phone_number: str | None, customer_id: int | None, duration_ms: float
) -> None:
    """Store one LookupEvent (a single INSERT) and count it for /metrics: every outcome passes here."""
    observe_lookup(outcome, duration_ms)
    LookupEvent.objects.create(
        outcome=outcome,
        token_name=token_name,
        phone_number=phone_number or LookupEvent.NO_NUMBER_TEXT,
        customer_id=customer_id,
        duration_ms=round(duration_ms, 3),
    )
