"""Synthetic customers for load tests and demos: deterministic IDs and phone numbers, realistic names."""

import datetime
import io
import random
import re
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from faker.providers.person.en_US import Provider as Names

from crm.models import Customer, Tier

ID_PREFIX = "CUST-"
ID_DIGITS = 7
ID_PATTERN = rf"^{ID_PREFIX}[0-9]{{{ID_DIGITS}}}$"

# Seeded phone numbers: customer n (1-based) gets +1 NPA 555 LLLL with NPA = 200 + (n-1) // 10000
# and LLLL = (n-1) % 10000, e.g. n=1 -> +12005550000, n=1,000,000 -> +12995559999. Every one is a
# *possible* US number (10 digits, §6), unique per n, and in the 555 exchange, which is mostly
# unassigned. Area codes 200-999 give room for 8,000,000 customers.
LINES_PER_AREA = 10_000
FIRST_AREA = 200
CAPACITY = (1000 - FIRST_AREA) * LINES_PER_AREA

# (name, rank, weight): most customers are Bronze, few are Gold.
TIERS = [("Gold", 20, 10), ("Silver", 10, 30), ("Bronze", 0, 60)]

# Faker's weighted US name lists. Names with characters COPY's text format would need to escape
# are left out (there are none today), so rows can be written without escaping.
_PLAIN = re.compile(r"^[^\t\n\r\\]+$")
_FIRST = [(n, w) for n, w in [*Names.first_names_female.items(), *Names.first_names_male.items()] if _PLAIN.match(n)]
_LAST = [(n, w) for n, w in Names.last_names.items() if _PLAIN.match(n)]
FIRST_NAMES, FIRST_WEIGHTS = [n for n, _ in _FIRST], [w for _, w in _FIRST]
LAST_NAMES, LAST_WEIGHTS = [n for n, _ in _LAST], [w for _, w in _LAST]


def customer_id(n: int) -> str:
    return f"{ID_PREFIX}{n:0{ID_DIGITS}d}"


def phone_number(n: int) -> str:
    """The seeded E.164 number of customer n."""
    area, line = divmod(n - 1, LINES_PER_AREA)
    return f"+1{FIRST_AREA + area}555{line:04d}"


def ensure_tiers() -> list[tuple[int, int]]:
    """Create the seed tiers if missing; return (tier pk, weight) pairs."""
    pairs = []
    for name, rank, weight in TIERS:
        tier, _ = Tier.objects.get_or_create(name=name, defaults={"rank": rank})
        pairs.append((tier.pk, weight))
    return pairs


@dataclass
class Row:
    n: int
    first_name: str
    last_name: str
    tier_id: int
    last_interaction_date: datetime.date | None


def make_rows(start: int, stop: int, tiers: list[tuple[int, int]], today: datetime.date) -> list[Row]:
    """Customers start..stop-1; names and dates drawn from a generator seeded by start."""
    count = stop - start
    rng = random.Random(start)
    firsts = rng.choices(FIRST_NAMES, FIRST_WEIGHTS, k=count)
    lasts = rng.choices(LAST_NAMES, LAST_WEIGHTS, k=count)
    tier_ids = rng.choices([pk for pk, _ in tiers], [w for _, w in tiers], k=count)
    days = [rng.randrange(-90, 730) for _ in range(count)]  # negative: never contacted
    return [
        Row(n, first, last, tier_id, today - datetime.timedelta(days=d) if d >= 0 else None)
        for n, first, last, tier_id, d in zip(range(start, stop), firsts, lasts, tier_ids, days, strict=True)
    ]


def seed_range(start: int, stop: int, tiers: list[tuple[int, int]], today: datetime.date) -> int:
    """Make customers start..stop-1 exist, in one transaction; return how many were added.

    Customers of the range that exist already are left alone, so re-runs add nothing twice
    and fill any gap a failed batch left, whatever batch size either run used.
    """
    with transaction.atomic():
        existing = set(
            Customer.objects.filter(customer_id__gte=customer_id(start), customer_id__lte=customer_id(stop - 1))
            .filter(customer_id__regex=ID_PATTERN)  # CUST-001 sorts inside the range too
            .order_by()
            .values_list("customer_id", flat=True)
        )
        if len(existing) == stop - start:
            return 0
        rows = [row for row in make_rows(start, stop, tiers, today) if customer_id(row.n) not in existing]
        if not rows:
            return 0
        if connection.vendor == "postgresql":
            _copy_batch(rows, partial=bool(existing))
        else:
            _bulk_create_batch(rows)
        return len(rows)


def _bulk_create_batch(rows: list[Row]) -> None:
    """SQLite: plain executemany INSERTs (model instances and the phone field's parse of every
    number cost several times the inserts), then the new ids by the customer_id index."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO crm_customer (customer_id, first_name, last_name, tier_id, last_interaction_date, notes,"
            " created_at, updated_at) VALUES (%s, %s, %s, %s, %s, '', %s, %s)",
            [
                (
                    customer_id(r.n),
                    r.first_name,
                    r.last_name,
                    r.tier_id,
                    r.last_interaction_date.isoformat() if r.last_interaction_date else None,
                    now,
                    now,
                )
                for r in rows
            ],
        )
        cursor.execute(
            "SELECT id, customer_id FROM crm_customer WHERE customer_id BETWEEN %s AND %s",
            [customer_id(rows[0].n), customer_id(rows[-1].n)],
        )
        ids = dict((cid, pk) for pk, cid in cursor.fetchall())
        cursor.executemany(
            "INSERT INTO crm_customerphone (customer_id, number, label) VALUES (%s, %s, 'mobile')",
            [(ids[customer_id(r.n)], phone_number(r.n)) for r in rows],
        )


def _copy_batch(rows: list[Row], partial: bool) -> None:
    """PostgreSQL: COPY the customers, then derive their phones in one INSERT ... SELECT."""
    now = timezone.now().isoformat()
    customers = io.StringIO()
    for r in rows:
        date = r.last_interaction_date.isoformat() if r.last_interaction_date else r"\N"
        customers.write(f"{customer_id(r.n)}\t{r.first_name}\t{r.last_name}\t{r.tier_id}\t{date}\t\t{now}\t{now}\n")
    columns = "customer_id, first_name, last_name, tier_id, last_interaction_date, notes, created_at, updated_at"
    with connection.cursor() as cursor, connection.wrap_database_errors:  # psycopg errors -> django.db ones
        # Check the foreign keys per statement rather than queue 2 x batch-size checks for COMMIT.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        with cursor.cursor.copy(f"COPY crm_customer ({columns}) FROM STDIN") as copy:
            copy.write(customers.getvalue())
        # Customers seeded by an earlier run keep their phones.
        only_new = "AND NOT EXISTS (SELECT 1 FROM crm_customerphone p WHERE p.customer_id = c.id)" if partial else ""
        # The same numbers as phone_number(n), computed where the new ids are (a range scan of
        # the customer_id index) instead of sending the ids back and forth.
        cursor.execute(
            f"""
            INSERT INTO crm_customerphone (customer_id, number, label)
            SELECT id, '+1' || ({FIRST_AREA} + (n - 1) / {LINES_PER_AREA})::text || '555'
                       || lpad(((n - 1) %% {LINES_PER_AREA})::text, 4, '0'), 'mobile'
            FROM (SELECT id, substr(customer_id, {len(ID_PREFIX) + 1})::int AS n
                  FROM crm_customer c WHERE customer_id BETWEEN %s AND %s AND customer_id ~ %s {only_new}) AS seeded
            """,
            [customer_id(rows[0].n), customer_id(rows[-1].n), ID_PATTERN],
        )
