"""Read queries of the CRM."""

from crm.models import Customer
from crm.phones import normalize_phone


def customer_by_phone(raw: object) -> Customer | None:
    """The customer owning this number in any accepted format, with its tier, or None."""
    e164 = normalize_phone(raw)
    if e164 is None:
        return None
    return customer_by_e164(e164)


def customer_by_e164(e164: str) -> Customer | None:
    """One indexed query: the phone's unique index, joined to customer and tier."""
    # No ORDER BY: the number is unique, so at most one row matches.
    rows = Customer.objects.select_related("tier").filter(phones__number=e164).order_by()[:1]
    return next(iter(rows), None)
