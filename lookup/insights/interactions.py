"""Insights from the conversations Genesys writes back: repeat callers and interactions per tier."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max

from crm.models import Interaction

# "Repeat callers" are customers with more than this many interactions in the window by default.
DEFAULT_REPEAT_MORE_THAN = 2
MAX_REPEAT_MORE_THAN = 1000
TOP_REPEAT = 20
UNMATCHED = "Unknown caller"


def repeat_threshold(raw: str | None) -> int:
    """The ?repeat=N parameter: a whole number 1..1000, else the default."""
    if raw and raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_REPEAT_MORE_THAN:
        return int(raw)
    return DEFAULT_REPEAT_MORE_THAN


def repeat_callers(since: datetime, more_than: int, limit: int = TOP_REPEAT) -> list[dict]:
    """Customers with more than `more_than` interactions since `since`, most first (one grouped query)."""
    return list(
        Interaction.objects.filter(occurred_at__gte=since, customer__isnull=False)
        .values("customer_id", "customer__customer_id", "customer__first_name", "customer__last_name")
        .annotate(count=Count("id"), last=Max("occurred_at"))
        .filter(count__gt=more_than)
        .order_by("-count", "-last", "customer_id")[:limit]
    )


@dataclass(frozen=True)
class TierRow:
    tier: str
    interactions: int
    customers: int


def interactions_per_tier(since: datetime) -> list[TierRow]:
    """Interactions and distinct callers per tier since `since`; unmatched callers as their own row, last."""
    rows = (
        Interaction.objects.filter(occurred_at__gte=since)
        .values("customer__tier__name", "customer__tier__rank")
        .annotate(interactions=Count("id"), customers=Count("customer_id", distinct=True))
        .order_by("-customer__tier__rank", "customer__tier__name")
    )
    result = [TierRow(r["customer__tier__name"], r["interactions"], r["customers"]) for r in rows]
    # Unmatched conversations group under a null tier; they have no customers to count.
    named = [r for r in result if r.tier is not None]
    unmatched = [TierRow(UNMATCHED, r.interactions, 0) for r in result if r.tier is None]
    return named + unmatched
