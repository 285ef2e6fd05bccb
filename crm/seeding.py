"""Synthetic customers for load tests and demos: deterministic IDs and phone numbers, realistic names."""

import datetime
import io
import random
import re
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from faker.providers.person.en_US import Provider as Names

from crm.models import Customer, CustomerPhone, Tier

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


def last_seeded() -> int:
    """The highest seeded customer number present (0 if none); seeding continues after it."""
    # Backward scan of the unique customer_id index; stops at the first seeded ID.
    last = (
        Customer.objects.filter(customer_id__regex=ID_PATTERN)
        .order_by("-customer_id")
        .values_list("customer_id", flat=True)
        .first()
    )
    return int(last[len(ID_PREFIX) :]) if last else 0


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


def insert_batch(rows: list[Row]) -> None:
    """Insert one batch of customers and their phones in one transaction."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            _copy_batch(rows)
        else:
            _bulk_create_batch(rows)


def _bulk_create_batch(rows: list[Row]) -> None:
    customers = Customer.objects.bulk_create(
        [
            Customer(
                customer_id=customer_id(r.n),
                first_name=r.first_name,
                last_name=r.last_name,
                tier_id=r.tier_id,
                last_interaction_date=r.last_interaction_date,
            )
            for r in rows
        ],
        batch_size=2000,
    )
    CustomerPhone.objects.bulk_create(
        [CustomerPhone(customer=c, number=phone_number(r.n)) for c, r in zip(customers, rows, strict=True)],
        batch_size=2000,
    )


def _copy_batch(rows: list[Row]) -> None:
    """PostgreSQL COPY: ids reserved from the sequence first, so phones can point at them."""
    now = timezone.now().isoformat()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('crm_customer', 'id')) FROM generate_series(1, %s)", [len(rows)]
        )
        ids = [pk for (pk,) in cursor.fetchall()]
        customers, phones = io.StringIO(), io.StringIO()
        for pk, r in zip(ids, rows, strict=True):
            date = r.last_interaction_date.isoformat() if r.last_interaction_date else r"\N"
            customers.write(
                f"{pk}\t{customer_id(r.n)}\t{r.first_name}\t{r.last_name}\t{r.tier_id}\t{date}\t\t{now}\t{now}\n"
            )
            phones.write(f"{pk}\t{phone_number(r.n)}\tmobile\n")
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        columns = (
            "id, customer_id, first_name, last_name, tier_id, last_interaction_date, notes, created_at, updated_at"
        )
        with connection.wrap_database_errors:  # psycopg errors -> django.db.IntegrityError etc.
            with raw.copy(f"COPY crm_customer ({columns}) FROM STDIN") as copy:
                copy.write(customers.getvalue())
            with raw.copy("COPY crm_customerphone (customer_id, number, label) FROM STDIN") as copy:
                copy.write(phones.getvalue())
