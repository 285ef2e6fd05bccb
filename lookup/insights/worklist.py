"""The unknown-caller worklist: numbers looked up and not found, or heard in unmatched interactions."""

from datetime import datetime

from django.db import connection
from django.db.models import Count, F, Max

from crm.models import CustomerPhone, Interaction
from lookup.insights.raw import aware, table
from lookup.models import LookupEvent


def _grouped_sql(since: datetime | None) -> tuple[str, list]:
    """Both sources grouped per number in the window, joined into one row per number.

    Each side is bounded like the lookups always were: a range on an indexed time column (the
    interactions' is a partial index of unmatched numbers only, so the side reads no matched row).
    Each side has one row per number, so a FULL JOIN on it merges them without grouping again.
    """
    events = LookupEvent.objects.filter(outcome=LookupEvent.Outcome.NOT_FOUND)
    calls = Interaction.objects.filter(customer__isnull=True).exclude(ani="")
    if since is not None:
        events = events.filter(created_at__gte=since)
        calls = calls.filter(occurred_at__gte=since)
    events = events.values(number=F("phone_number")).annotate(n=Count("*"), last=Max("created_at")).order_by()
    calls = calls.values(number=F("ani")).annotate(n=Count("*"), last=Max("occurred_at")).order_by()
    # The ORM cannot join two grouped queries: it builds each half (and adapts its parameters), SQL joins them.
    events_sql, events_params = events.query.sql_with_params()
    calls_sql, calls_params = calls.query.sql_with_params()
    sql = (
        "SELECT COALESCE(e.number, c.number) AS number, COALESCE(e.n, 0) AS lookups, COALESCE(c.n, 0) AS calls,"
        # The later of the two times; one is null for a number only looked up or only heard.
        " CASE WHEN c.last IS NULL OR e.last > c.last THEN e.last ELSE c.last END AS last_seen"
        # FULL JOIN: SQLite has it since 3.39.
        f" FROM ({events_sql}) e FULL JOIN ({calls_sql}) c ON c.number = e.number"
    )
    return sql, [*events_params, *calls_params]


class UnknownCallers:
    """The worklist as the Paginator wants it: count() and slices, each one query.

    Numbers that belong to a customer by now are left out: they will be found next time (and
    saving the phone gave that customer the unmatched calls, crm.interactions.interactions_claim).
    """

    def __init__(self, since: datetime | None):
        grouped, self.params = _grouped_sql(since)
        phones = table(CustomerPhone)
        # The ownership check runs once per number, after grouping, not once per event.
        self.sql = (
            "SELECT seen.number, seen.lookups, seen.calls, seen.last_seen"
            f" FROM ({grouped}) seen WHERE NOT EXISTS (SELECT 1 FROM {phones} p WHERE p.number = seen.number)"
        )

    def count(self) -> int:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM ({self.sql}) numbers", self.params)
            return cursor.fetchone()[0]

    def __getitem__(self, bounds: slice) -> list[dict]:
        if not isinstance(bounds, slice) or bounds.stop is None or bounds.step is not None:
            raise TypeError("UnknownCallers takes a bounded slice such as [0:20]")
        start = bounds.start or 0
        # Seen most often (lookups and calls together) first, then most recently, then by number.
        page = (
            " ORDER BY seen.lookups + seen.calls DESC, seen.last_seen DESC, seen.number"
            f" LIMIT {max(0, bounds.stop - start):d} OFFSET {start:d}"
        )
        with connection.cursor() as cursor:
            cursor.execute(f"{self.sql}{page}", self.params)
            rows = cursor.fetchall()
        return [
            {"phone_number": number, "lookups": lookups, "calls": calls, "last_seen": aware(last)}
            for number, lookups, calls, last in rows
        ]


def unknown_callers(since: datetime | None = None) -> UnknownCallers:
    """Numbers not found by a lookup or not matched by an interaction since `since` (None: all retained)."""
    return UnknownCallers(since)
