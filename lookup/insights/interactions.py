"""Insights from the conversations Genesys writes back: repeat callers and interactions per tier."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max

from crm.models import Customer, Interaction, Tier
from lookup.insights.raw import aware, fetch, table

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
    """Customers with more than `more_than` interactions since `since`, most first (one query)."""
    matched = Interaction.objects.filter(occurred_at__gte=since, customer__isnull=False)
    top = matched.values("customer_id").annotate(n=Count("*"), last=Max("occurred_at")).filter(n__gt=more_than)
    sql, params = top.order_by("-n", "-last", "customer_id")[:limit].query.sql_with_params()
    rows = fetch(
        "SELECT c.customer_id, cu.customer_id, cu.first_name, cu.last_name, c.n, c.last"
        f" FROM ({sql}) c JOIN {table(Customer)} cu ON cu.id = c.customer_id"
        " ORDER BY c.n DESC, c.last DESC, c.customer_id",
        params,
    )
    keys = ("customer_id", "customer__customer_id", "customer__first_name", "customer__last_name", "count")
    return [{**dict(zip(keys, row[:5], strict=True)), "last": aware(row[5])} for row in rows]


@dataclass(frozen=True)
class TierRow:
    tier: str
    interactions: int
    customers: int


def interactions_per_tier(since: datetime) -> list[TierRow]:
    """Interactions and distinct callers per tier since `since`; unmatched callers as their own row, last.

    Counted per customer first, then per tier: a tier's callers are its customers' groups, so no
    COUNT(DISTINCT) has to sort every interaction of the window.
    """
    grouped = Interaction.objects.filter(occurred_at__gte=since).values("customer_id").annotate(n=Count("*"))
    sql, params = grouped.order_by().query.sql_with_params()
    rows = fetch(
        # CAST: PostgreSQL sums bigints as numeric, which would arrive as Decimal.
        "SELECT t.name, CAST(SUM(c.n) AS INTEGER), COUNT(c.customer_id)"
        f" FROM ({sql}) c LEFT JOIN {table(Customer)} cu ON cu.id = c.customer_id"
        f" LEFT JOIN {table(Tier)} t ON t.id = cu.tier_id"
        " GROUP BY t.name, t.rank ORDER BY t.rank DESC, t.name",
        params,
    )
    # Unmatched conversations group under a null tier; they have no customers to count.
    named = [TierRow(name, n, customers) for name, n, customers in rows if name is not None]
    unmatched = [TierRow(UNMATCHED, n, 0) for name, n, _ in rows if name is None]
    return named + unmatched
