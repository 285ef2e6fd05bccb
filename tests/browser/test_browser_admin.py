"""The admin in a real browser (Debian chromium via Playwright)."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_login_and_find_alice_by_national_number(page, admin_login, alice, screenshot):
    page.goto(f"{admin_login}/admin/crm/customer/")
    page.fill("#searchbar", "(555) 123-4567")
    page.press("#searchbar", "Enter")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list")).to_contain_text("Alice")
    expect(page.locator("#result_list")).to_contain_text("Gold")
    screenshot()
