"""Export customers to CSV or XLSX, streamed to a file, safe to open in a spreadsheet.

Columns are those the import reads (crm/tables.py), so an export can be edited and imported
again. Cells a spreadsheet would run as a formula (starting with = + - @, tab or carriage return)
are neutralised: in CSV they get a leading apostrophe (the import removes it again); in XLSX every
cell is written as text, so nothing is ever a formula.
"""

import csv
import re
from collections.abc import Callable
from itertools import chain, islice

from django.db import connections
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from crm.imports import FORMULA_START, PHONE_SEPARATOR
from crm.models import Customer, CustomerPhone
from crm.tables import COLUMNS

CHUNK = 5000


FORMULA_CHARS = frozenset(FORMULA_START)
# A cell (after the NUL put before each one) that starts with a formula character.
FORMULA_CELL = re.compile("\x00[" + re.escape("".join(FORMULA_START)) + "]")
SEPARATOR = PHONE_SEPARATOR + " "


def neutralise(text: str) -> str:
    """A cell that no spreadsheet runs as a formula (OWASP CSV injection)."""
    return "'" + text if text[:1] in FORMULA_CHARS else text


def iter_rows(queryset: QuerySet | None = None, progress: Callable[[int], None] | None = None):
    """Rows of text cells, in customer pk order, read in keyset chunks (memory stays flat).

    Each chunk is two plain queries that return the file's text: the customers with their tier's
    name and the date as YYYY-MM-DD, then a range of their phones as label:number. The ORM's
    per-value converters, and per-row formatting in Python, cost more than the rest together.
    """
    queryset = queryset if queryset is not None else Customer.objects.all()
    alias = queryset.db
    customers = queryset.annotate(day_text=RawSQL(_day_sql(connections[alias].vendor), ())).order_by("pk")
    last, done = 0, 0
    while True:
        chunk_qs = customers.filter(pk__gt=last).values_list(
            "pk", "customer_id", "first_name", "last_name", "tier__name", "day_text", "notes"
        )[:CHUNK]
        sql, params = chunk_qs.query.sql_with_params()
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, params)
            chunk = cursor.fetchall()
        if not chunk:
            return
        last = chunk[-1][0]
        phones = phones_in_range(alias, chunk[0][0], last)
        yield from [
            (cid, first_name, surname, tier, day, notes, phones.get(pk, ""))
            for pk, cid, first_name, surname, tier, day, notes in chunk
        ]
        done += len(chunk)
        if progress:
            progress(done)


def _day_sql(vendor: str) -> str:
    """The date cell: YYYY-MM-DD, or empty (SQLite stores dates as that text already)."""
    column = f"{Customer._meta.db_table}.last_interaction_date"
    return f"COALESCE(to_char({column}, 'YYYY-MM-DD'), '')" if vendor == "postgresql" else f"COALESCE({column}, '')"


def phones_in_range(alias: str, first: int, last: int) -> dict[int, str]:
    """{customer pk: phones cell} of the customers first..last, one range scan of the customer index.

    Plain SQL: the stored text is already E.164, and the model field would parse every number
    again on the way out (phonenumbers' parse dominated the export's time).
    """
    with connections[alias].cursor() as cursor:
        cursor.execute(
            f"SELECT customer_id, label || ':' || number FROM {CustomerPhone._meta.db_table}"
            " WHERE customer_id BETWEEN %s AND %s ORDER BY customer_id, id",
            [first, last],
        )
        pairs = cursor.fetchall()
    cells = dict(pairs)  # one phone per customer: built in C
    if len(cells) < len(pairs):  # some customers have several: join them in order
        cells = {}
        for pk, entry in pairs:
            cells[pk] = cells[pk] + SEPARATOR + entry if pk in cells else entry
    return cells


def write_csv(path: str, rows) -> int:
    """Write the header and rows as UTF-8 CSV with a BOM (Excel reads the encoding from it)."""
    count = 0
    rows = iter(rows)
    # The BOM by hand: "utf-8-sig" would encode every write in Python, "utf-8" in C.
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write("\ufeff")
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        while batch := list(islice(rows, CHUNK)):
            # One regex scan over a batch's cells; only a batch with a formula cell goes cell by cell.
            if FORMULA_CELL.search("\x00" + "\x00".join(chain.from_iterable(batch))):
                batch = [[neutralise(cell) for cell in row] for row in batch]
            writer.writerows(batch)
            count += len(batch)
    return count


def write_xlsx(path: str, rows) -> int:
    """Write the header and rows as an XLSX sheet of text cells (openpyxl's streaming writer)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("customers")
    sheet.append(COLUMNS)
    count = 0
    for row in rows:
        # One C scan of the row spares a check per cell; formula cells are rare.
        sheet.append(_text_cells(sheet, row) if FORMULA_CELL.search("\x00" + "\x00".join(row)) else row)
        count += 1
    workbook.save(path)
    return count


def _text_cells(sheet, row) -> list:
    """The row's cells, those starting with a formula character forced to the string type."""
    from openpyxl.cell import WriteOnlyCell

    cells = []
    for value in row:
        if value.startswith(FORMULA_START):
            # openpyxl would store "=..." as a formula.
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            cells.append(cell)
        else:
            cells.append(value)
    return cells
