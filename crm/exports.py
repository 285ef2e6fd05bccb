"""Export customers to CSV or XLSX, streamed to a file, safe to open in a spreadsheet.

Columns are those the import reads (crm/tables.py), so an export can be edited and imported
again. Cells a spreadsheet would run as a formula (starting with = + - @, tab or carriage return)
are neutralised: in CSV they get a leading apostrophe (the import removes it again); in XLSX every
cell is written as text, so nothing is ever a formula.
"""

import csv
from collections.abc import Callable

from django.db.models import QuerySet

from crm.imports import FORMULA_START, format_phones
from crm.models import Customer, CustomerPhone
from crm.tables import COLUMNS

CHUNK = 5000


def neutralise(text: str) -> str:
    """A cell that no spreadsheet runs as a formula (OWASP CSV injection)."""
    return "'" + text if text.startswith(FORMULA_START) else text


def iter_rows(queryset: QuerySet | None = None, progress: Callable[[int], None] | None = None):
    """Rows of text cells, in customer pk order, read in keyset chunks (memory stays flat)."""
    queryset = (queryset if queryset is not None else Customer.objects.all()).order_by("pk")
    last, done = 0, 0
    while True:
        chunk = list(
            queryset.filter(pk__gt=last).values_list(
                "pk", "customer_id", "first_name", "last_name", "tier__name", "last_interaction_date", "notes"
            )[:CHUNK]
        )
        if not chunk:
            return
        first, last = chunk[0][0], chunk[-1][0]
        phones: dict[int, list[tuple[str, str]]] = {}
        # A range of the customer index, not an IN list: one cheap query per chunk.
        for customer_pk, number, label in (
            CustomerPhone.objects.filter(customer_id__gte=first, customer_id__lte=last)
            .order_by("customer_id", "pk")
            .values_list("customer_id", "number", "label")
        ):
            phones.setdefault(customer_pk, []).append((str(number), label))
        for pk, customer_id, first_name, last_name, tier, date, notes in chunk:
            yield [
                customer_id,
                first_name,
                last_name,
                tier,
                date.isoformat() if date else "",
                notes,
                format_phones(phones.get(pk, ())),
            ]
        done += len(chunk)
        if progress:
            progress(done)


def write_csv(path: str, rows) -> int:
    """Write the header and rows as UTF-8 CSV with a BOM (Excel reads the encoding from it)."""
    count = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow([neutralise(cell) for cell in row])
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
