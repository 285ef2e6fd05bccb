"""Export customers to CSV or XLSX, streamed to a file, safe to open in a spreadsheet.

Columns are those the import reads (crm/tables.py), so an export can be edited and imported
again. Cells a spreadsheet would run as a formula (starting with = + - @, tab or carriage return)
are neutralised: in CSV they get a leading apostrophe (the import removes it again); in XLSX every
cell is written as text, so nothing is ever a formula.
"""

import csv
from collections.abc import Callable

from django.db import connections
from django.db.models import QuerySet

from crm.imports import FORMULA_START, format_phones
from crm.models import Customer, CustomerPhone
from crm.tables import COLUMNS

CHUNK = 5000


FORMULA_CHARS = frozenset(FORMULA_START)


def neutralise(text: str) -> str:
    """A cell that no spreadsheet runs as a formula (OWASP CSV injection)."""
    return "'" + text if text[:1] in FORMULA_CHARS else text


def iter_rows(queryset: QuerySet | None = None, progress: Callable[[int], None] | None = None):
    """Rows of text cells, in customer pk order, read in keyset chunks (memory stays flat).

    Each chunk is two plain queries (the customers, then a range of their phones): the ORM's
    per-value converters cost more than the rest of the export together.
    """
    queryset = queryset if queryset is not None else Customer.objects.all()
    alias = queryset.db
    last, done = 0, 0
    while True:
        chunk_qs = (
            queryset.filter(pk__gt=last)
            .order_by("pk")
            .values_list(
                "pk", "customer_id", "first_name", "last_name", "tier__name", "last_interaction_date", "notes"
            )[:CHUNK]
        )
        sql, params = chunk_qs.query.sql_with_params()
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, params)
            chunk = cursor.fetchall()
        if not chunk:
            return
        first, last = chunk[0][0], chunk[-1][0]
        phones: dict[int, list[tuple[str, str]]] = {}
        for customer_pk, number, label in phones_in_range(alias, first, last):
            phones.setdefault(customer_pk, []).append((number, label))
        for pk, customer_id, first_name, last_name, tier, date, notes in chunk:
            # SQLite returns the date as ISO text, PostgreSQL as a date: str() is YYYY-MM-DD for both.
            yield [
                customer_id,
                first_name,
                last_name,
                tier,
                str(date) if date else "",
                notes,
                format_phones(phones.get(pk, ())),
            ]
        done += len(chunk)
        if progress:
            progress(done)


def phones_in_range(alias: str, first: int, last: int) -> list[tuple[int, str, str]]:
    """(customer pk, E.164, label) of the customers first..last, one range scan of the customer index.

    Plain SQL: the stored text is already E.164, and the model field would parse every number
    again on the way out (phonenumbers' parse dominated the export's time).
    """
    with connections[alias].cursor() as cursor:
        cursor.execute(
            f"SELECT customer_id, number, label FROM {CustomerPhone._meta.db_table}"
            " WHERE customer_id BETWEEN %s AND %s ORDER BY customer_id, id",
            [first, last],
        )
        return cursor.fetchall()


def write_csv(path: str, rows) -> int:
    """Write the header and rows as UTF-8 CSV with a BOM (Excel reads the encoding from it)."""
    count = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow([("'" + cell if cell[:1] in FORMULA_CHARS else cell) for cell in row])
            count += 1
    return count


def write_xlsx(path: str, rows) -> int:
    """Write the header and rows as an XLSX sheet of text cells (openpyxl's streaming writer)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("customers")
    sheet.append(COLUMNS)
    count = 0
    for row in rows:
        cells = []
        for value in row:
            if value.startswith(FORMULA_START):
                # openpyxl would store "=..." as a formula: force the string type.
                cell = WriteOnlyCell(sheet, value=value)
                cell.data_type = "s"
                cells.append(cell)
            else:
                cells.append(value)
        sheet.append(cells)
        count += 1
    workbook.save(path)
    return count
