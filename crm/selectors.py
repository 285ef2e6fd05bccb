"""Read queries of the CRM."""

from dataclasses import dataclass

from django.db import connections, router
from django.db.models import Q

from crm.models import Customer, CustomerPhone, Tier
from crm.phones import normalize_phone


@dataclass(frozen=True, slots=True)
class Caller:
    """What a call flow needs to know about a customer: one row of the lookup query."""

    pk: int
    customer_id: str
    first_name: str
    last_name: str
    tier: str
    last_interaction_date: str  # YYYY-MM-DD, or "" when unknown


# The lookup's hot path: the customer, its tier and the phone in one plain statement.
# Building it through the ORM cost more CPU than running it (see bench/README.md).
_CALLER_SQL = (
    "SELECT c.id, c.customer_id, c.first_name, c.last_name, t.name, c.last_interaction_date"
    f" FROM {CustomerPhone._meta.db_table} p"
    f" JOIN {Customer._meta.db_table} c ON c.id = p.customer_id"
    f" JOIN {Tier._meta.db_table} t ON t.id = c.tier_id"
    " WHERE p.number = %s"
)


def customer_by_phone(e164: str | None, *, using: str | None = None) -> Caller | None:
    """The customer owning this number (normalize_phone's E.164), or None: one query on the phone's unique index.

    `using` is the database to read (the caller picks it through the router); no number, no query.
    """
    if not e164:
        return None
    with connections[using or router.db_for_read(Customer)].cursor() as cursor:
        cursor.execute(_CALLER_SQL, [e164])
        row = cursor.fetchone()
    if row is None:
        return None
    pk, customer_id, first_name, last_name, tier, last = row
    # PostgreSQL returns a date, SQLite its ISO text: str() gives YYYY-MM-DD for both.
    return Caller(pk, customer_id, first_name, last_name, tier, str(last) if last else "")


def customer_search_filter(term: str) -> Q:
    """The admin search as one Q of indexed lookups: a phone's unique index, ID and last-name prefixes.

    icontains on 1,000,000 rows is a full scan per page. The ID prefix uses the
    varchar_pattern_ops index Django keeps for the unique customer_id (IDs are stored
    upper-case, so the term is upper-cased); the last-name prefix uses migration 0002's
    UPPER(last_name) index on PostgreSQL. "First Last" narrows a last-name match by first name.
    """
    term = term.strip()
    match = Q(customer_id__startswith=term.upper())
    words = term.split()
    if len(words) == 1:
        match |= Q(last_name__istartswith=term)
    else:
        match |= Q(first_name__istartswith=words[0], last_name__istartswith=" ".join(words[1:]))
    e164 = normalize_phone(term)
    if e164 is not None:
        # Resolved first (one query on the unique index), so the OR stays index-only.
        owners = list(CustomerPhone.objects.filter(number=e164).values_list("customer_id", flat=True))
        match |= Q(pk__in=owners)
    return match


# A customer number typed on a keypad: digits only, so the letters of the prefix are added back.
CUSTOMER_ID_PREFIX = "CUST-"
MAX_CUSTOMER_ID_LENGTH = Customer._meta.get_field("customer_id").max_length


def customer_id_candidates(typed: str) -> list[str]:
    """The stored spellings a typed customer number may mean: as typed, upper case, and digits with the prefix."""
    text = typed.strip()
    if not text or len(text) > MAX_CUSTOMER_ID_LENGTH:
        return []
    candidates = [text, text.upper()]
    if text.isdigit():
        candidates.append(CUSTOMER_ID_PREFIX + text)  # 001 -> CUST-001
    return list(dict.fromkeys(candidates))


def customer_by_customer_id(typed: str | None, *, using: str | None = None) -> Caller | None:
    """The customer with this customer number (any case, prefix optional for digits), or None: one indexed query."""
    candidates = customer_id_candidates(typed or "")
    if not candidates:
        return None
    rows = {
        row.customer_id: row
        for row in Customer.objects.using(using or router.db_for_read(Customer))
        .select_related("tier")
        .filter(customer_id__in=candidates)
        .order_by()
    }
    customer = next((rows[c] for c in candidates if c in rows), None)  # as typed wins over a case variant
    if customer is None:
        return None
    last = customer.last_interaction_date
    return Caller(
        customer.pk,
        customer.customer_id,
        customer.first_name,
        customer.last_name,
        customer.tier.name,
        str(last) if last else "",
    )
