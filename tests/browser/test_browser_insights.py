"""The insights page in a real browser (Debian chromium via Playwright), light and dark."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import LookupEventFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

URL = "/api/customer/lookup"


def test_insights_after_a_few_lookups(page, admin_login, alice, api, anon_api, screenshot):
    # Real lookups through the API, plus a day of history so the chart has a shape.
    for number in ["+15551234567", "(555) 123-4567", "+15550000000", "+15550000000", "anonymous"]:
        api.post(URL, {"phoneNumber": number}, format="json")
    anon_api.post(URL, {"phoneNumber": "+15551234567"}, format="json")
    now = timezone.now()
    for hours in range(1, 24):
        LookupEventFactory.create_batch(
            hours % 5 + 3, created_at=now - timedelta(hours=hours), outcome="success", duration_ms=20.0 + hours * 9
        )
        LookupEventFactory.create_batch(
            hours % 3, created_at=now - timedelta(hours=hours), outcome="not_found", phone_number="+15550000000"
        )
    LookupEventFactory.create_batch(2, created_at=now - timedelta(hours=4), outcome="unauthorized")

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{admin_login}/admin/")
    page.click("#insights-module a >> text=Lookup insights")
    expect(page).to_have_title("Lookup insights | Customer CRM")
    expect(page.locator("#outcome-chart g.bar")).to_have_count(24)
    expect(page.locator("#total")).to_have_text(str(6 + sum(h % 5 + 3 + h % 3 for h in range(1, 24)) + 2))
    expect(page.locator("#unknown-callers + p + table")).to_contain_text("+15550000000")
    # Each bar explains itself on hover.
    assert "lookups (success" in page.locator("#outcome-chart g.bar title").last.text_content()
    screenshot("-light")

    page.emulate_media(color_scheme="dark")
    page.reload()
    body_bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert body_bg == "rgb(18, 18, 18)"  # the admin's dark theme is on
    bar_fill = page.evaluate("getComputedStyle(document.querySelector('#outcome-chart rect.fill-success')).fill")
    assert bar_fill == "rgb(102, 187, 106)"  # the dark palette's green
    screenshot("-dark")

    page.click("#all-unknown")
    expect(page).to_have_title("Unknown callers | Customer CRM")
    page.click("table.unknown-callers a.addlink >> nth=0")
    expect(page.locator("#id_phones-0-number")).to_have_value("+15550000000")
