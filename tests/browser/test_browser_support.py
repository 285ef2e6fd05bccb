"""Support-staff workflows in a real browser (Debian chromium via Playwright) against a live server."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from crm.models import Customer
from lookup.models import LookupEvent
from tests.servers import http

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SUPPORT_PASSWORD = "correct-horse-battery-9"


def add_customer(page, base: str, customer_id: str, phone: str, tier) -> None:
    page.goto(f"{base}/admin/crm/customer/add/")
    page.fill("#id_customer_id", customer_id)
    page.fill("#id_first_name", "Carol")
    page.fill("#id_last_name", "Diaz")
    page.select_option("#id_tier", str(tier.pk))
    page.fill("#id_phones-0-number", phone)
    page.click("input[name=_save]")


def test_add_customer_with_national_phone_then_find_by_e164(page, admin_login, alice, screenshot):
    add_customer(page, admin_login, "CUST-100", "(555) 010-0199", alice.tier)
    expect(page.locator(".messagelist .success")).to_contain_text("was added successfully")
    page.fill("#searchbar", "+15550100199")
    page.press("#searchbar", "Enter")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("CUST-100")
    expect(rows.first).to_contain_text("+15550100199")
    screenshot()


def test_duplicate_phone_shows_the_form_error(page, admin_login, alice, screenshot):
    add_customer(page, admin_login, "CUST-100", "555.123.4567", alice.tier)
    expect(page.locator(".errornote")).to_be_visible()
    expect(page.locator(".inline-group .errorlist")).to_have_text(
        "+15551234567 already belongs to Alice Smith (CUST-001)."
    )
    screenshot()
    assert not Customer.objects.filter(customer_id="CUST-100").exists()


def test_import_with_one_bad_row_shows_the_row_error_and_imports_nothing(
    page, admin_login, alice, screenshot, tmp_path
):
    csv = tmp_path / "customers.csv"
    csv.write_text(
        "customer_id,first_name,last_name,tier,last_interaction_date,notes,phones\n"
        "CUST-201,Dana,Ok,Gold,2024-01-02,,mobile:+15550100201\n"
        "CUST-202,Eli,Bad,Gold,,,12345\n"
    )
    page.goto(f"{admin_login}/admin/crm/customer/import/")
    page.set_input_files("#id_import_file", str(csv))
    page.click("input[type=submit][value='Upload and preview']")
    # A small file is previewed inside the request: the job's page shows the verdict at once.
    expect(page.locator("h2").first).to_have_text("Row errors (1)")
    errors = page.locator("table.job-errors tbody tr")
    expect(errors).to_have_count(1)
    expect(errors.first.locator("td").nth(0)).to_have_text("3")
    expect(errors.first.locator("td").nth(1)).to_have_text("phones")
    expect(errors.first.locator("td").nth(2)).to_contain_text("'12345' is not a possible phone number")
    expect(page.locator("input[value='Confirm import']")).to_have_count(0)
    screenshot()
    assert not Customer.objects.filter(customer_id__in=["CUST-201", "CUST-202"]).exists()


def test_api_lookup_shows_on_the_customer_page(page, admin_login, alice, token, screenshot):
    status, _, body = http(
        "POST",
        f"{admin_login}/api/customer/lookup",
        body=json.dumps({"phoneNumber": "tel:+15551234567"}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert status == 200 and json.loads(body)["status"] == "success"
    assert LookupEvent.objects.filter(customer=alice).count() == 1
    page.goto(f"{admin_login}/admin/crm/customer/{alice.pk}/change/")
    table = page.locator("table.recent-lookups tbody tr")
    expect(table).to_have_count(1)
    expect(table.first).to_contain_text("Success")
    expect(table.first).to_contain_text("+15551234567")
    expect(table.first).to_contain_text("genesys-test")
    screenshot()


def test_support_user_finds_no_token_pages(page, live_server, alice, monkeypatch, screenshot):
    monkeypatch.setenv("SUPPORT_PW", SUPPORT_PASSWORD)
    call_command("create_support_user", "sam", "--password-from-env", "SUPPORT_PW", stdout=StringIO())
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "sam")
    page.fill("#id_password", SUPPORT_PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()
    content = page.locator("#content-main")
    expect(content).to_contain_text("Customers")
    expect(content).to_contain_text("Lookup events")
    expect(content).not_to_contain_text("API tokens")
    expect(content).not_to_contain_text("Users")
    screenshot()
    response = page.goto(f"{live_server.url}/admin/lookup/apitoken/")
    assert response.status == 403
    expect(page.locator("h1")).to_have_text("Access denied")
    screenshot("-403")
