"""CSV/XLSX import and export of customers with tier and phones (crm/resources.py)."""

from http import HTTPStatus

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from crm.models import Customer, CustomerPhone
from crm.resources import CustomerResource, format_phones, parse_phones
from tests.factories import CustomerPhoneFactory
from tests.servers import ROOT

pytestmark = pytest.mark.django_db

SAMPLE = ROOT / "fixtures" / "customers-sample.csv"
HEADER = "customer_id,first_name,last_name,tier,last_interaction_date,notes,phones"


def csv_dataset(*lines: str) -> tablib.Dataset:
    return tablib.Dataset().load("\n".join([HEADER, *lines]) + "\n", format="csv")


def snapshot() -> list:
    """Every customer and phone, to compare before and after an import."""
    customers = list(Customer.objects.order_by("pk").values_list("customer_id", "first_name", "tier__name", "notes"))
    phones = list(CustomerPhone.objects.order_by("pk").values_list("customer__customer_id", "number", "label"))
    return [customers, phones]


def row_errors(result) -> dict[int, dict[str, list[str]]]:
    """{row number: {column: [messages]}} of an import result's invalid rows."""
    return {row.number: row.error_dict for row in result.invalid_rows}


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
        "'12345' is not a possible phone number; 'abc' is not a possible phone number. "
        "Use e.g. mobile:+15551234567; work:(555) 987-6543."
    )


def test_format_phones():
    assert format_phones([("+15551234567", "mobile"), ("+15559876543", "work")]) == (
        "mobile:+15551234567; work:+15559876543"
    )


def test_export_csv_one_row_per_customer(alice, bob):
    CustomerPhoneFactory(customer=alice, number="+15550100199", label="work")
    exported = CustomerResource().export(Customer.objects.all()).csv
    assert exported.replace("\r\n", "\n") == (
        f"{HEADER}\n"
        "CUST-001,Alice,Smith,Gold,2023-10-15,,mobile:+15551234567; work:+15550100199\n"
        "CUST-002,Bob,Jones,Silver,2023-11-01,,mobile:+15559876543\n"
    )


def test_export_runs_a_fixed_number_of_queries(alice, bob, django_assert_num_queries):
    with django_assert_num_queries(3):  # count, customers with tier, then all their phones
        CustomerResource().export(CustomerResource().get_queryset())


def test_sample_file_imports_cleanly_then_reimport_changes_nothing():
    call_command("loaddata", "demo", verbosity=0)
    dataset = tablib.Dataset().load(SAMPLE.read_text(), format="csv")
    result = CustomerResource().import_data(dataset)
    assert not result.has_errors() and not result.has_validation_errors()
    assert result.totals["new"] == 5
    assert list(Customer.objects.get(customer_id="CUST-105").phones.values_list("number", "label")) == [
        ("+15550100106", "work"),
        ("+15550100107", "mobile"),
    ]
    before = snapshot()
    again = CustomerResource().import_data(tablib.Dataset().load(SAMPLE.read_text(), format="csv"))
    assert (again.totals["skip"], again.totals["new"], again.totals["update"]) == (5, 0, 0)
    assert [row.import_type for row in again.rows] == ["skip"] * 5  # reported, not hidden
    assert snapshot() == before


def test_preview_lists_every_row_error_and_writes_nothing(alice):
    before = snapshot()
    dataset = csv_dataset(
        "CUST-201,Ann,Bad,Gold,,,12345",
        "CUST-202,Ben,Tier,Platinum,,,+15550100201",
        "CUST-203,Cat,Dup,Gold,,,+15550100202",
        "CUST-204,Dov,Dup,Gold,,,(555) 010-0202",
        "CUST-205,Eve,Taken,Gold,,,555-123-4567",
        ",Fay,NoId,Gold,,,+15550100203",
        "CUST-206,Gus,Twice,Gold,,,+15550100204; work:+15550100204",
        "CUST-207,Hal,Fine,Gold,,,+15550100205",
    )
    result = CustomerResource().import_data(dataset, dry_run=True)
    assert row_errors(result) == {
        1: {"phones": ["'12345' is not a possible phone number. Use e.g. mobile:+15551234567; work:(555) 987-6543."]},
        2: {"tier": ["Unknown tier 'Platinum'; tiers are: Gold."]},
        3: {"phones": ["+15550100202 is also in row 4 of this file."]},
        4: {"phones": ["+15550100202 is also in row 3 of this file."]},
        5: {"phones": ["+15551234567 already belongs to customer CUST-001."]},
        6: {"customer_id": ["Missing customer ID."]},
        7: {"phones": ["+15550100204 is listed twice in this row."]},
    }
    assert result.totals["new"] == 1  # row 8 alone is fine
    assert snapshot() == before


def test_one_bad_row_rolls_back_the_whole_import(alice):
    before = snapshot()
    dataset = csv_dataset(
        "CUST-301,Ivy,Good,Gold,,,+15550100301",
        "CUST-001,Alice,Smith,Gold,2023-10-15,changed,mobile:+15551234567",
        "CUST-302,Jon,Bad,Gold,,,not a number",
    )
    result = CustomerResource().import_data(dataset, dry_run=False)
    assert row_errors(result) == {
        3: {
            "phones": [
                "'not a number' is not a possible phone number. Use e.g. mobile:+15551234567; work:(555) 987-6543."
            ]
        }
    }
    assert snapshot() == before


def test_missing_tier_is_a_row_error(alice):
    result = CustomerResource().import_data(csv_dataset("CUST-401,Kim,NoTier,,,,"), dry_run=True)
    assert row_errors(result) == {1: {"tier": ["Missing tier."]}}


def test_reimport_updates_fields_and_replaces_phones(alice, bob):
    dataset = csv_dataset("CUST-001,Alice,Smith,Silver,2023-10-15,VIP,work:+15551234567; home:+15550100401")
    result = CustomerResource().import_data(dataset)
    assert not result.has_errors() and not result.has_validation_errors()
    assert result.totals["update"] == 1
    alice.refresh_from_db()
    assert (alice.tier.name, alice.notes) == ("Silver", "VIP")
    assert list(alice.phones.order_by("number").values_list("number", "label")) == [
        ("+15550100401", "home"),
        ("+15551234567", "work"),
    ]
    # Dropping a number from the cell removes it from the customer.
    CustomerResource().import_data(csv_dataset("CUST-001,Alice,Smith,Silver,2023-10-15,VIP,+15550100401"))
    assert list(alice.phones.values_list("number", "label")) == [("+15550100401", "mobile")]


def test_changed_phone_alone_is_not_skipped(alice):
    result = CustomerResource().import_data(csv_dataset("CUST-001,Alice,Smith,Gold,2023-10-15,,+15550100501"))
    assert result.totals["update"] == 1
    assert list(alice.phones.values_list("number", flat=True)) == ["+15550100501"]


def test_file_without_phones_column_keeps_phones(alice):
    dataset = tablib.Dataset().load("customer_id,first_name,last_name,tier\nCUST-001,Alicia,Smith,Gold\n", "csv")
    result = CustomerResource().import_data(dataset)
    assert result.totals["update"] == 1
    alice.refresh_from_db()
    assert alice.first_name == "Alicia"
    assert list(alice.phones.values_list("number", flat=True)) == ["+15551234567"]


def test_xlsx_round_trip_changes_nothing(alice, bob):
    before = snapshot()
    xlsx = CustomerResource().export(Customer.objects.all()).xlsx
    result = CustomerResource().import_data(tablib.Dataset().load(xlsx, format="xlsx"))
    assert (result.totals["skip"], result.totals["new"], result.totals["update"]) == (2, 0, 0)
    assert snapshot() == before


# -- through the admin ----------------------------------------------------------------


def upload(client, name: str, content: bytes, fmt: int = 0):
    """POST a file to the import page; format 0 is CSV, 1 is XLSX (CustomerAdmin.import_formats)."""
    return client.post(
        reverse("admin:crm_customer_import"),
        {"resource": "0", "format": str(fmt), "import_file": SimpleUploadedFile(name, content)},
    )


def test_admin_preview_shows_row_errors_and_offers_no_confirm(admin_client, alice):
    content = f"{HEADER}\nCUST-601,Lea,Ok,Gold,,,+15550100601\nCUST-602,Max,Bad,Gold,,,12345\n".encode()
    response = upload(admin_client, "bad.csv", content)
    assert response.status_code == HTTPStatus.OK
    assert "confirm_form" not in response.context
    page = response.content.decode()
    assert "Some rows failed to validate" in page
    assert "&#x27;12345&#x27; is not a possible phone number" in page
    assert row_errors(response.context["result"]) == {
        2: {"phones": ["'12345' is not a possible phone number. Use e.g. mobile:+15551234567; work:(555) 987-6543."]}
    }
    assert not Customer.objects.filter(customer_id__in=["CUST-601", "CUST-602"]).exists()


def test_admin_import_preview_then_confirm_then_reimport_is_skipped(admin_client):
    call_command("loaddata", "demo", verbosity=0)
    response = upload(admin_client, "customers-sample.csv", SAMPLE.read_bytes())
    assert response.status_code == HTTPStatus.OK
    assert not Customer.objects.filter(customer_id="CUST-101").exists()  # preview writes nothing
    confirm = response.context["confirm_form"]
    done = admin_client.post(reverse("admin:crm_customer_process_import"), confirm.initial)
    assert done.status_code == HTTPStatus.FOUND
    assert Customer.objects.filter(customer_id__startswith="CUST-10").count() == 5
    again = upload(admin_client, "customers-sample.csv", SAMPLE.read_bytes())
    assert again.context["result"].totals["skip"] == 5
    assert again.context["result"].totals["new"] == 0


def test_admin_confirm_rolls_back_when_a_row_fails_after_preview(admin_client, alice):
    content = f"{HEADER}\nCUST-701,Ned,Ok,Gold,,,+15550100701\nCUST-702,Ola,Ok,Gold,,,+15550100702\n".encode()
    response = upload(admin_client, "ok.csv", content)
    confirm = response.context["confirm_form"]
    # Between preview and confirm someone else takes the second number.
    CustomerPhoneFactory(customer=alice, number="+15550100702")
    result = admin_client.post(reverse("admin:crm_customer_process_import"), confirm.initial)
    assert result.status_code == HTTPStatus.FOUND
    assert not Customer.objects.filter(customer_id__in=["CUST-701", "CUST-702"]).exists()


def test_admin_export_csv(admin_client, alice):
    response = admin_client.post(
        reverse("admin:crm_customer_export"), {"format": "0", "resource": "0", **export_fields()}
    )
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "text/csv"
    assert response.content.decode().replace("\r\n", "\n") == (
        f"{HEADER}\nCUST-001,Alice,Smith,Gold,2023-10-15,,mobile:+15551234567\n"
    )


def export_fields() -> dict:
    """The export form's field checkboxes, all ticked."""
    names = ["customer_id", "first_name", "last_name", "tier", "last_interaction_date", "notes", "phones"]
    return {f"customerresource_{name}": "on" for name in names}
