"""Read any CSV or XLSX file a support lead has, row by row, or say clearly why not.

Encoding (UTF-8 with or without BOM, UTF-16, cp1252/Latin-1 through charset-normalizer), delimiter
(`,` `;` tab) and file type are detected from the content, never from the file name. Every problem
is an ImportFileError with a message fit for the page: never a traceback, never a server path.
"""

import codecs
import csv
import datetime
import logging
import os
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

import charset_normalizer
from django.conf import settings

logger = logging.getLogger(__name__)

COLUMNS = ["customer_id", "first_name", "last_name", "tier", "last_interaction_date", "notes", "phones"]
REQUIRED = ["customer_id", "first_name", "last_name", "tier"]
SAMPLE_BYTES = 64 * 1024

# Magic numbers of files people pick by mistake, and what to tell them.
NOT_A_SPREADSHEET = [
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls (or Word .doc) file: save it as .xlsx or CSV and upload that"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
]


class ImportFileError(Exception):
    """The whole file cannot be imported; str() is the message for the page."""


@dataclass
class Table:
    """A file's header and its data rows as (spreadsheet row number, {column: text}) pairs."""

    kind: str  # "CSV (UTF-8, ',')", "XLSX", ...
    headers: list[str]
    rows: Iterator[tuple[int, dict[str, object]]]
    estimated_rows: int | None


def max_cell() -> int:
    return settings.CRM_IMPORT_MAX_CELL_CHARS


def open_table(path: str) -> Table:
    """Open a CSV or XLSX file for reading; ImportFileError says what is wrong with it."""
    size = os.path.getsize(path)
    limit_mb = settings.CRM_IMPORT_MAX_FILE_MB
    if size == 0:
        raise ImportFileError("The file is empty.")
    if size > limit_mb * 1024 * 1024:
        raise ImportFileError(
            f"The file is {size / 1024 / 1024:.1f} MB; the limit is {limit_mb} MB. Split it into smaller files."
        )
    with open(path, "rb") as fh:
        head = fh.read(SAMPLE_BYTES)
    if head.startswith(b"PK\x03\x04"):
        return _open_xlsx(path)
    for magic, what in NOT_A_SPREADSHEET:
        if head.startswith(magic):
            raise ImportFileError(f"This file is not a CSV or XLSX spreadsheet: it looks like {what}.")
    return _open_csv(path, head, size)


def detect_encoding(head: bytes) -> str:
    """The text encoding of a file from its first bytes: BOM, then strict UTF-8, then charset-normalizer."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" not in head:
        try:
            codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
            return "utf-8"
        except UnicodeDecodeError:
            pass
    best = charset_normalizer.from_bytes(head).best()
    if best is not None and best.encoding.startswith("utf_16"):
        return best.encoding
    if b"\x00" in head:
        raise ImportFileError("This file is not a CSV or XLSX spreadsheet: it contains binary data.")
    # Excel's "CSV" on Windows is cp1252; Latin-1 decodes any byte (cp1252 leaves five undefined).
    for encoding in ("cp1252", "latin-1"):
        try:
            head.decode(encoding)
            return encoding
        except UnicodeDecodeError:
            continue
    return "latin-1"  # pragma: no cover - latin-1 decodes every byte


def _open_csv(path: str, head: bytes, size: int) -> Table:
    encoding = detect_encoding(head)
    sample = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=False)
    if sum(1 for ch in sample[:4096] if ord(ch) < 32 and ch not in "\t\r\n") > 8:
        raise ImportFileError("This file is not a CSV or XLSX spreadsheet: it contains binary data.")
    first_line = sample.lstrip("\ufeff").splitlines()[0] if sample.strip() else ""
    delimiter = max([",", ";", "\t"], key=first_line.count) if first_line else ","
    if first_line and first_line.count(delimiter) == 0:
        delimiter = ","
    # Newlines over the size: an estimate for the progress bar (UTF-16 has one 0x0A per newline too).
    estimated = max(head.count(b"\n") * size // max(len(head), 1) - 1, 0)
    fh = open(path, encoding=encoding, newline="", errors="strict")  # noqa: SIM115 - closed by _csv_rows
    reader = csv.reader(fh, delimiter=delimiter)
    # The csv module's own limit is the clean place to stop an oversize cell (before it is in memory).
    csv.field_size_limit(max_cell() + 1)
    try:
        header = next(reader)
    except StopIteration:
        fh.close()
        raise ImportFileError("The file has no header row.") from None
    except (csv.Error, UnicodeDecodeError) as error:
        fh.close()
        raise _csv_error(error, 1, encoding) from None
    headers = _check_header(header)
    label = {",": "','", ";": "';'", "\t": "tab"}[delimiter]
    kind = f"CSV ({encoding.replace('-sig', ' with BOM').upper().replace('_', '-')}, {label}-separated)"
    return Table(kind, headers, _csv_rows(fh, reader, headers, encoding), estimated)


def _csv_error(error: Exception, row: int, encoding: str) -> ImportFileError:
    if isinstance(error, UnicodeDecodeError):
        return ImportFileError(
            f"Row {row}: the text is not valid {encoding.upper()} (the encoding detected from the start "
            "of the file). Save the file as 'CSV UTF-8' and upload it again."
        )
    if "field larger than field limit" in str(error):
        return ImportFileError(f"Row {row}: a cell is longer than the limit of {max_cell():,} characters.")
    return ImportFileError(f"Row {row}: the CSV is malformed ({error}).")


def _csv_rows(fh, reader, headers: list[str], encoding: str):
    with fh:
        while True:
            row_number = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except (csv.Error, UnicodeDecodeError) as error:
                raise _csv_error(error, row_number, encoding) from None
            row = _row_dict(cells, headers, row_number)
            if row is not None:
                yield row_number, row


def _open_xlsx(path: str) -> Table:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    # SyntaxError below: the XML parsers' errors (lxml's and the standard library's), e.g. a workbook
    # declaring entities, which neither parser resolves.
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
    except (
        zipfile.BadZipFile,
        InvalidFileException,
        KeyError,
        ValueError,
        OSError,
        IndexError,
        TypeError,
        SyntaxError,
    ) as error:
        logger.info("unreadable XLSX upload: %r", error)
        raise ImportFileError(
            "This file is not a readable XLSX workbook (or a CSV): save it from Excel again."
        ) from None
    if header is None:
        raise ImportFileError("The workbook's first sheet is empty: it has no header row.")
    headers = _check_header(["" if h is None else str(h) for h in header])
    estimated = (sheet.max_row - 1) if sheet.max_row else None

    def generate():
        try:
            for number, values in enumerate(rows, 2):
                cells = [_xlsx_text(v) for v in values]
                row = _row_dict(cells, headers, number)
                if row is not None:
                    yield number, row
        finally:
            workbook.close()

    return Table("XLSX", headers, generate(), estimated)


def _xlsx_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _row_dict(cells: list[str], headers: list[str], row_number: int) -> dict | None:
    """{column: text} of one row, or None for a blank row; oversize cells and extra cells are errors."""
    if not any(str(c).strip() for c in cells):
        return None
    if len(cells) > len(headers) and any(str(c).strip() for c in cells[len(headers) :]):
        raise ImportFileError(
            f"Row {row_number} has {len(cells)} cells but the header has {len(headers)} columns. "
            "Check for a separator inside an unquoted cell."
        )
    limit = max_cell()
    for cell in cells:
        if len(cell) > limit:
            raise ImportFileError(f"Row {row_number}: a cell is longer than the limit of {limit:,} characters.")
    return {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(headers)}


def _normalise_header(name: str) -> str:
    return re.sub(r"[\s-]+", "_", name.replace("\ufeff", "").strip().lower())


def _check_header(header: list[str]) -> list[str]:
    """The header's column names, or an error naming the expected and the found columns."""
    found = [_normalise_header(h) for h in header]
    while found and not found[-1]:  # trailing empty header cells (Excel leaves them)
        found.pop()
    shown = ", ".join(h.strip() or "(empty)" for h in header[: len(found)]) or "(nothing)"
    expected = (
        f"Expected the columns {', '.join(REQUIRED)}, and optionally "
        f"{', '.join(c for c in COLUMNS if c not in REQUIRED)} (in any order)."
    )
    problems = []
    missing = [c for c in REQUIRED if c not in found]
    unknown = [h for h, f in zip(header, found, strict=False) if f not in COLUMNS]
    duplicated = sorted({f for f in found if found.count(f) > 1 and f in COLUMNS})
    if missing:
        problems.append(f"missing: {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown: {', '.join(h.strip() or '(empty)' for h in unknown)}")
    if duplicated:
        problems.append(f"listed twice: {', '.join(duplicated)}")
    if problems:
        raise ImportFileError(f"The header row does not match ({'; '.join(problems)}). {expected} Found: {shown}.")
    return found
