"""Import customers from a CSV/XLSX file: preview every row's changes, then apply all-or-nothing.

One row per customer, columns as crm/tables.py lists them. The rules (docs/support.md "Importing"):

- An empty cell changes nothing: an existing customer keeps that value (phones included).
- The word `none` in `last_interaction_date`, `notes` or `phones` clears that value
  (for phones: removes every phone of the customer).
- A non-empty `phones` cell lists *all* the customer's phones: numbers not in it are removed,
  and the preview shows them as before -> after.
- Any row error (bad ID, phone, tier or date; a number of another customer or twice in the file;
  an ID twice in the file) stops the whole import; nothing is written.

Rows are read as a stream and checked in batches: each batch costs three queries (its customers,
their phones, the owners of its numbers), whatever its size.
"""

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from crm.interactions import interactions_claim
from crm.models import CUSTOMER_ID_HELP, CUSTOMER_ID_PATTERN, Customer, CustomerPhone, Tier, normalize_customer_id
from crm.phones import normalize_phone
from crm.tables import Table

BATCH_SIZE = 1000
CLEAR = "none"  # the cell value that clears a column
PHONE_SEPARATOR = ";"
LABELS = frozenset(CustomerPhone.Label.values)
MAX_ERRORS = 1000  # kept for the page; the count is exact
MAX_CHANGES = 200  # row changes kept for the preview page (the totals count every row)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ID_RE = re.compile(CUSTOMER_ID_PATTERN)
NAME_MAX = Customer._meta.get_field("first_name").max_length


def parse_phones(text) -> list[tuple[str, str]]:
    """Parse a phones cell into (E.164, label) pairs; ValueError names every bad entry."""
    entries, errors = [], []
    for item in str(text or "").split(PHONE_SEPARATOR):
        item = item.strip()
        if not item:
            continue
        label, _, rest = item.partition(":")
        if rest and label.strip().lower() in LABELS:
            label, raw = label.strip().lower(), rest.strip()
        else:  # no label, or a "tel:" URI whose scheme is not a label
            label, raw = CustomerPhone.Label.MOBILE, item
        e164 = normalize_phone(raw)
        if e164 is None:
            errors.append(f"{raw!r} is not a possible phone number")
        else:
            entries.append((e164, label))
    if errors:
        raise ValueError("; ".join(errors) + ". Use e.g. mobile:+15551234567; work:(555) 987-6543.")
    return entries


def format_phones(pairs) -> str:
    """The phones cell for (E.164, label) pairs: "mobile:+15551234567; work:+15559876543"."""
    return f"{PHONE_SEPARATOR} ".join(f"{label}:{e164}" for e164, label in pairs)


class RowErrors(Exception):
    """Raised inside the apply transaction to roll it back."""


@dataclass
class Outcome:
    """What an import did or would do: totals, per-row errors and per-row changes."""

    totals: dict[str, int] = field(default_factory=lambda: {"new": 0, "update": 0, "skip": 0, "invalid": 0})
    errors: list[dict] = field(default_factory=list)
    error_count: int = 0
    changes: list[dict] = field(default_factory=list)
    rows: int = 0

    def error(self, row: int, column: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({"row": row, "column": column, "message": message})


def _text(value) -> str:
    """A cell as trimmed text, without the apostrophe our exports put before formula characters."""
    text = str(value if value is not None else "").strip()
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_START:
        text = text[1:]
    return text


@dataclass
class Row:
    number: int
    customer_id: str
    values: dict  # model field -> new value, for the columns that change something
    phones: list[tuple[str, str]] | None  # None: keep the phones
    errors: list[tuple[str, str]]


def _parse_row(number: int, raw: dict, tiers: dict[str, Tier]) -> Row:
    errors: list[tuple[str, str]] = []
    values: dict = {}
    customer_id = normalize_customer_id(_text(raw.get("customer_id")))
    if not customer_id:
        errors.append(("customer_id", "Missing customer ID."))
    elif not ID_RE.match(customer_id):
        errors.append(("customer_id", f"{customer_id!r} is not a valid customer ID: {CUSTOMER_ID_HELP}"))
    for name in ("first_name", "last_name"):
        if name in raw and (text := _text(raw[name])):
            if len(text) > NAME_MAX:
                errors.append((name, f"Longer than {NAME_MAX} characters."))
            values[name] = text
    if "tier" in raw and (text := _text(raw["tier"])):
        tier = tiers.get(text.lower())
        if tier is None:
            known = ", ".join(sorted(t.name for t in tiers.values())) or "(none yet)"
            errors.append(("tier", f"Unknown tier {text!r}; tiers are: {known}."))
        else:
            values["tier_id"] = tier.pk
    if "last_interaction_date" in raw and (text := _text(raw["last_interaction_date"])):
        if text.lower() == CLEAR:
            values["last_interaction_date"] = None
        else:
            try:
                values["last_interaction_date"] = datetime.date.fromisoformat(text[:10] if " " in text else text)
            except ValueError:
                errors.append(("last_interaction_date", f"{text!r} is not a date; use YYYY-MM-DD, e.g. 2024-02-03."))
    if "notes" in raw and (text := _text(raw["notes"])):
        values["notes"] = "" if text.lower() == CLEAR else text
    phones = None
    if "phones" in raw and (text := _text(raw["phones"])):
        if text.lower() == CLEAR:
            phones = []
        else:
            try:
                phones = parse_phones(text)
            except ValueError as error:
                errors.append(("phones", str(error)))
            else:
                seen = set()
                for e164, _label in phones:
                    if e164 in seen:
                        errors.append(("phones", f"{e164} is listed twice in this row."))
                    seen.add(e164)
    return Row(number, customer_id, values, phones, errors)


FIELD_COLUMNS = {
    "first_name": "first_name",
    "last_name": "last_name",
    "tier_id": "tier",
    "last_interaction_date": "last_interaction_date",
    "notes": "notes",
}
CUSTOMER_VALUES = ["pk", "customer_id", "first_name", "last_name", "tier_id", "last_interaction_date", "notes"]


def run_import(
    table: Table,
    *,
    apply: bool,
    user=None,
    reason: str = "Import",
    progress: Callable[[int], None] | None = None,
) -> Outcome:
    """Check every row (and with apply=True write them, in one transaction); return the outcome.

    With apply=True any row error rolls back every write and the outcome lists the errors.
    """
    if not apply:
        return _run(table, apply=False, user=user, reason=reason, progress=progress)
    outcome = None
    try:
        with transaction.atomic():
            outcome = _run(table, apply=True, user=user, reason=reason, progress=progress)
            if outcome.error_count:
                raise RowErrors
    except RowErrors:
        pass
    return outcome


def _run(table: Table, *, apply: bool, user, reason: str, progress) -> Outcome:
    outcome = Outcome()
    tiers = {tier.name.lower(): tier for tier in Tier.objects.all()}
    tier_names = {tier.pk: tier.name for tier in tiers.values()}
    first_row_of_id: dict[str, int] = {}
    row_of_number: dict[str, tuple[int, str]] = {}
    now = timezone.now()
    batch: list[Row] = []
    for number, raw in table.rows:
        batch.append(_parse_row(number, raw, tiers))
        if len(batch) >= BATCH_SIZE:
            _batch(batch, outcome, first_row_of_id, row_of_number, tier_names, apply, user, reason, now)
            batch = []
            if progress:
                progress(outcome.rows)
    if batch:
        _batch(batch, outcome, first_row_of_id, row_of_number, tier_names, apply, user, reason, now)
    if progress:
        progress(outcome.rows)
    return outcome


def _batch(rows, outcome, first_row_of_id, row_of_number, tier_names, apply, user, reason, now) -> None:
    outcome.rows += len(rows)
    ids = [r.customer_id for r in rows if r.customer_id]
    existing = {c["customer_id"]: c for c in Customer.objects.filter(customer_id__in=ids).values(*CUSTOMER_VALUES)}
    pks = [c["pk"] for c in existing.values()]
    current: dict[int, list[tuple[str, str, int]]] = {}
    for phone_pk, customer_pk, e164, label in _sql(
        f"SELECT id, customer_id, number, label FROM {PHONES} WHERE customer_id IN ({{}}) ORDER BY id", pks
    ):
        current.setdefault(customer_pk, []).append((e164, label, phone_pk))
    numbers = sorted({e164 for r in rows if r.phones for e164, _ in r.phones})
    owners = dict(
        _sql(
            f"SELECT p.number, c.customer_id FROM {PHONES} p JOIN {CUSTOMERS} c ON c.id = p.customer_id"
            " WHERE p.number IN ({})",
            numbers,
        )
    )

    new_customers, new_rows, updated, phone_deletes, phone_creates, label_updates = [], [], [], [], [], []
    for row in rows:
        errors = list(row.errors)
        if row.customer_id:
            first = first_row_of_id.setdefault(row.customer_id, row.number)
            if first != row.number:
                errors.append(("customer_id", f"{row.customer_id} is also in row {first} of this file."))
        for e164, _label in row.phones or []:
            other = row_of_number.setdefault(e164, (row.number, row.customer_id))
            if other[0] != row.number:
                errors.append(("phones", f"{e164} is also in row {other[0]} of this file."))
            owner = owners.get(e164)
            if owner is not None and owner != row.customer_id:
                errors.append(("phones", f"{e164} already belongs to customer {owner}."))
        before = existing.get(row.customer_id)
        if before is None and row.customer_id:
            for name in ("first_name", "last_name", "tier_id"):
                if name not in row.values and not any(column == FIELD_COLUMNS[name] for column, _ in errors):
                    errors.append(
                        (
                            FIELD_COLUMNS[name],
                            f"Missing {FIELD_COLUMNS[name].replace('_', ' ')} (required for a new customer).",
                        )
                    )
        if errors:
            outcome.totals["invalid"] += 1
            for column, message in errors:
                outcome.error(row.number, column, message)
            continue

        phones_before = [(e, lab) for e, lab, _ in current.get(before["pk"], [])] if before else []
        phones_after = phones_before if row.phones is None else row.phones
        field_changes = []
        for name, value in row.values.items():
            old = before[name] if before else ("" if name == "notes" else None)
            if old != value:
                field_changes.append(
                    [FIELD_COLUMNS[name], _shown(name, old, tier_names), _shown(name, value, tier_names)]
                )
        phones_changed = sorted(phones_before) != sorted(phones_after)
        if before is None:
            action = "new"
        elif field_changes or phones_changed:
            action = "update"
        else:
            action = "skip"
        outcome.totals[action] += 1
        if action != "skip" and len(outcome.changes) < MAX_CHANGES:
            outcome.changes.append(
                {
                    "row": row.number,
                    "customer_id": row.customer_id,
                    "action": action,
                    "fields": field_changes,
                    "phones": [format_phones(phones_before), format_phones(phones_after)] if phones_changed else None,
                }
            )
        if not apply or action == "skip" or outcome.error_count:
            continue
        if before is None:
            new_customers.append(
                {"customer_id": row.customer_id, "notes": "", "last_interaction_date": None, **row.values}
            )
            new_rows.append(row)
            continue
        if field_changes:
            updated.append({**before, **row.values})
        if phones_changed:
            wanted = dict(phones_after)
            for e164, label, phone_pk in current.get(before["pk"], []):
                if e164 not in wanted:
                    phone_deletes.append((phone_pk, before["pk"], e164, label))
                elif wanted[e164] != label:
                    label_updates.append((phone_pk, before["pk"], e164, wanted[e164]))
            have = {e for e, _, _ in current.get(before["pk"], [])}
            phone_creates += [(before["pk"], e164, label) for e164, label in phones_after if e164 not in have]
    if apply and not outcome.error_count:
        _write(new_customers, new_rows, updated, phone_deletes, phone_creates, label_updates, user, reason, now)


PHONES = CustomerPhone._meta.db_table
CUSTOMERS = Customer._meta.db_table
# The columns an import writes, in the order of _fields(): one list for the INSERT, the UPDATE and the history.
FIELDS = ("first_name", "last_name", "tier_id", "last_interaction_date", "notes")
ASSIGNMENTS = ", ".join(f"{name} = %s" for name in FIELDS)


def _sql(template: str, values: list) -> list[tuple]:
    """Rows of a query with an IN list, in plain SQL: stored numbers are E.164 already, and the
    model field would parse each one again (phonenumbers' parse dominated the import's time)."""
    if not values:
        return []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One array parameter: psycopg parses a query's placeholders in Python, slowly for 1,000.
            cursor.execute(template.replace(" IN ({})", " = ANY(%s)"), [list(values)])
        else:
            cursor.execute(template.format(", ".join(["%s"] * len(values))), values)
        return cursor.fetchall()


def _fields(c: dict, day) -> tuple:
    """The values of FIELDS for one customer, the date adapted by `day`."""
    return c["first_name"], c["last_name"], c["tier_id"], day(c["last_interaction_date"]), c["notes"]


def _shown(name: str, value, tier_names) -> str:
    if value is None:
        return ""
    if name == "tier_id":
        return tier_names.get(value, str(value))
    return str(value)


def _write(new_customers, new_rows, updated, phone_deletes, phone_creates, label_updates, user, reason, now) -> None:
    """One batch's writes, and one history row per changed customer and phone (crm/history.py).

    Plain SQL: building model instances (and the phone field's parse of every number) cost ten
    times the writes themselves. New rows go in by COPY on PostgreSQL, multi-row INSERTs on SQLite.
    """
    ops = connection.ops
    when = ops.adapt_datetimefield_value(now)
    user_id = user.pk if user is not None else None
    history = (when, reason[:REASON_MAX], user_id)

    def day(value):
        return ops.adapt_datefield_value(value)

    with connection.cursor() as cursor:
        if new_customers:
            _insert(
                cursor,
                CUSTOMERS,
                ["customer_id", *FIELDS, "created_at", "updated_at"],
                [(c["customer_id"], *_fields(c, day), when, when) for c in new_customers],
            )
            pks = dict(
                _sql(
                    f"SELECT customer_id, id FROM {CUSTOMERS} WHERE customer_id IN ({{}})",
                    [c["customer_id"] for c in new_customers],
                )
            )
            _customer_history(cursor, [{**c, "pk": pks[c["customer_id"]]} for c in new_customers], "+", history, day)
            for customer, row in zip(new_customers, new_rows, strict=True):
                phone_creates += [(pks[customer["customer_id"]], e164, label) for e164, label in row.phones or []]
        if updated:
            cursor.executemany(
                f"UPDATE {CUSTOMERS} SET {ASSIGNMENTS}, updated_at = %s WHERE id = %s",
                [(*_fields(c, day), when, c["pk"]) for c in updated],
            )
            _customer_history(cursor, updated, "~", history, day)
        if phone_deletes:
            cursor.executemany(f"DELETE FROM {PHONES} WHERE id = %s", [(p[0],) for p in phone_deletes])
            _phone_history(cursor, phone_deletes, "-", history)
        if label_updates:
            cursor.executemany(f"UPDATE {PHONES} SET label = %s WHERE id = %s", [(p[3], p[0]) for p in label_updates])
            _phone_history(cursor, label_updates, "~", history)
        if phone_creates:
            _insert(cursor, PHONES, ["customer_id", "number", "label"], phone_creates)
            created = _sql(
                f"SELECT id, customer_id, number, label FROM {PHONES} WHERE number IN ({{}})",
                [p[1] for p in phone_creates],
            )
            _phone_history(cursor, created, "+", history)
    if phone_creates:
        # As a phone saved in the admin: the unknown-caller calls from these numbers become the customers'.
        interactions_claim(numbers=[p[1] for p in phone_creates])


# Rows per multi-row INSERT: 500 x 11 columns stays far below SQLite's 32,766 parameters.
INSERT_ROWS = 500
REASON_MAX = Customer.history.model._meta.get_field("history_change_reason").max_length


def _insert(cursor, table: str, columns: list[str], rows: list[tuple]) -> None:
    """COPY on PostgreSQL; multi-row INSERTs (500 rows per statement) on SQLite."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        # One COPY per table and batch: a fifth of the time of pipelined INSERTs, and the rows
        # are encoded by psycopg's C code rather than bound to placeholders parsed in Python.
        with (
            connection.wrap_database_errors,
            cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    prefix = f"INSERT INTO {table} ({', '.join(columns)}) VALUES"
    group = "(" + ", ".join(["%s"] * len(columns)) + ")"
    for start in range(0, len(rows), INSERT_ROWS):
        chunk = rows[start : start + INSERT_ROWS]
        cursor.execute(f"{prefix} {', '.join([group] * len(chunk))}", [v for row in chunk for v in row])


HISTORY_COLUMNS = ["history_date", "history_change_reason", "history_type", "history_user_id"]
CUSTOMER_HISTORY_COLUMNS = ["id", "customer_id", *FIELDS, *HISTORY_COLUMNS]


def _customer_history(cursor, customers: list[dict], kind: str, history, day) -> None:
    when, reason, user_id = history
    _insert(
        cursor,
        Customer.history.model._meta.db_table,
        CUSTOMER_HISTORY_COLUMNS,
        [(c["pk"], c["customer_id"], *_fields(c, day), when, reason, kind, user_id) for c in customers],
    )


def _phone_history(cursor, phones: list[tuple], kind: str, history) -> None:
    """phones: (phone pk, customer pk, E.164, label) rows."""
    when, reason, user_id = history
    _insert(
        cursor,
        CustomerPhone.history.model._meta.db_table,
        ["id", "customer_id", "number", "label", *HISTORY_COLUMNS],
        [(pk, customer, e164, label, when, reason, kind, user_id) for pk, customer, e164, label in phones],
    )
