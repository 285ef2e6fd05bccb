"""A customer's edit history (django-simple-history): who, when, where from, and before -> after.

Admin saves are recorded by simple-history's signals (the user from its request middleware);
imports and bulk actions write one history row per changed customer and phone in bulk, with the
job or action as the change reason. The customer page groups a customer's row and its phones'
rows of one save into one entry.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from crm.models import Customer, CustomerPhone, Tier

SHOWN = 50  # entries on the customer page
FIELDS = [
    ("customer_id", "customer ID"),
    ("first_name", "first name"),
    ("last_name", "last name"),
    ("tier_id", "tier"),
    ("last_interaction_date", "last interaction date"),
    ("notes", "notes"),
]
# Saves of one admin form (customer, then each inline phone) land within this window.
SAME_SAVE = timedelta(seconds=2)


@dataclass
class Entry:
    when: datetime
    who: str
    source: str
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # (what, before, after)


def customer_history(customer: Customer, limit: int = SHOWN) -> list[Entry]:
    """The customer's latest history entries, newest first."""
    tiers = dict(Tier.objects.values_list("pk", "name"))
    records = list(
        Customer.history.filter(id=customer.pk).select_related("history_user").order_by("history_date", "history_id")
    )
    events = []
    previous = None
    for record in records:
        changes = []
        for name, label in FIELDS:
            after = getattr(record, name)
            before = getattr(previous, name) if previous is not None else None
            if record.history_type == "+" and after in (None, ""):
                continue
            if previous is None or before != after:
                changes.append((label, _shown(name, before, tiers), _shown(name, after, tiers)))
        if record.history_type == "+":
            changes.insert(0, ("customer", "", "created"))
        previous = record
        events.append((record.history_date, record.history_user, record.history_change_reason or "", changes))
    phones = list(
        CustomerPhone.history.filter(customer_id=customer.pk)
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    last_label: dict[int, str] = {}
    for record in phones:
        number = str(record.number)
        if record.history_type == "+":
            change = ("phone", "", f"{record.label}:{number}")
        elif record.history_type == "-":
            change = ("phone", f"{record.label}:{number}", "")
        else:
            before = last_label.get(record.id)
            if before == record.label:
                continue
            change = ("phone", f"{before or '?'}:{number}", f"{record.label}:{number}")
        last_label[record.id] = record.label
        events.append((record.history_date, record.history_user, record.history_change_reason or "", [change]))
    events.sort(key=lambda e: e[0])
    entries: list[Entry] = []
    for when, user, reason, changes in events:
        who = user.get_username() if user is not None else "system"
        source = reason or ("Admin" if user is not None else "Script or command")
        last = entries[-1] if entries else None
        if last is not None and last.who == who and last.source == source and when - last.when <= SAME_SAVE:
            last.changes.extend(changes)
            continue
        if changes:
            entries.append(Entry(when, who, source, list(changes)))
    return list(reversed(entries))[:limit]


def _shown(name: str, value, tiers: dict) -> str:
    if value is None:
        return ""
    if name == "tier_id":
        return tiers.get(value, f"#{value}")
    return str(value)
