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
from operator import itemgetter

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
CELLS = itemgetter(slice(1, None))  # a chunk row without its pk


def neutralise(text: str) -> str:
    """A cell that no spreadsheet runs as a formula (OWASP CSV injection)."""
    return "'" + text if text[:1] in FORMULA_CHARS else text


def iter_rows(queryset: QuerySet | None = None, progress: Callable[[int], None] | None = None):
    """Rows of text cells, in customer pk order (see iter_chunks)."""
    for chunk in iter_chunks(queryset, progress):
        yield from map(CELLS, chunk)


def iter_chunks(queryset: QuerySet | None = None, progress: Callable[[int], None] | None = None):
    """Lists of (pk, *cells) rows in customer pk order, read in keyset chunks (memory stays flat).

    One query per chunk returns every cell as the file's text: the tier's name, the date as
    YYYY-MM-DD and the phones cell are built by the database, so no Python runs per row (the
    ORM's per-value converters, and then per-row formatting, cost more than the rest together).
    """
    queryset = queryset if queryset is not None else Customer.objects.all()
    alias = queryset.db
    day, phones = _cell_sql(connections[alias].vendor)
    cells = queryset.annotate(day_text=RawSQL(day, ()), phones_cell=RawSQL(phones, ())).order_by("pk")
    last, done = 0, 0
    while True:
        chunk_qs = cells.filter(pk__gt=last).values_list(
            "pk", "customer_id", "first_name", "last_name", "tier__name", "day_text", "notes", "phones_cell"
        )[:CHUNK]
        # Plain cursor: the values are the file's text already, nothing to convert.
        sql, params = chunk_qs.query.sql_with_params()
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, params)
            chunk = cursor.fetchall()
        if not chunk:
            return
        last = chunk[-1][0]
        yield chunk
        done += len(chunk)
        if progress:
            progress(done)


def _cell_sql(vendor: str) -> tuple[str, str]:
    """SQL of the date cell (YYYY-MM-DD or empty) and the phones cell of a row of the customers table."""
    table, phones = Customer._meta.db_table, CustomerPhone._meta.db_table
    separator = PHONE_SEPARATOR + " "
    if vendor == "postgresql":
        day = f"to_char({table}.last_interaction_date, 'YYYY-MM-DD')"
        cell = f"SELECT string_agg(p.label || ':' || p.number, '{separator}' ORDER BY p.id) FROM {phones} p"
        cell += f" WHERE p.customer_id = {table}.id"
    else:
        # Dates are stored as YYYY-MM-DD text; group_concat keeps the order of an ordered subquery
        # (SQLite does not flatten an ORDER BY subquery into an aggregate).
        day = f"{table}.last_interaction_date"
        cell = (
            f"SELECT group_concat(x, '{separator}') FROM (SELECT p.label || ':' || p.number AS x FROM {phones} p"
            f" WHERE p.customer_id = {table}.id ORDER BY p.id)"
        )
    return f"COALESCE({day}, '')", f"COALESCE(({cell}), '')"


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
