"""The agent's screen pop in a real browser: a tel: number in, the customer's page out."""

import datetime as dt
from urllib.parse import quote

import pytest
from django.db import transaction
from django.utils import timezone
from playwright.sync_api import expect

from crm.interactions import AFTER_CALL_WORK, CUSTOMER_END, InteractionEvent, interaction_record

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_screen_pop_with_a_tel_number_lands_on_the_customer_page(page, live_server, admin_user, alice, screenshot):
    # Through the same service POST /api/interactions uses: the call also moves the date forward.
    ended = timezone.now() - dt.timedelta(hours=2)
    caller = {"conversation_id": "conv-1", "ani": "tel:+15551234567", "direction": "inbound", "media_type": "voice"}
    with transaction.atomic():
        interaction_record(event=InteractionEvent(event=CUSTOMER_END, event_time=ended, duration_ms=185_000, **caller))
        interaction_record(
            event=InteractionEvent(
                event=AFTER_CALL_WORK,
                event_time=ended + dt.timedelta(seconds=40),
                queue_id="support",
                user_id="agent-7",
                wrapup_code="Resolved",
                wrapup_notes="Reset the router.",
                **caller,
            )
        )
    # As a Genesys Script's Open URL action sends it: the pop first, the login on the way.
    page.goto(f"{live_server.url}/crm/caller/?phone={quote('tel:+15551234567')}")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "password")
    page.click("input[type=submit]")
    expect(page).to_have_url(f"{live_server.url}/admin/crm/customer/{alice.pk}/change/")
    expect(page.locator("#id_customer_id")).to_have_value("CUST-001")
    expect(page.locator("#id_last_interaction_date")).to_have_value(timezone.localdate(ended).isoformat())
    row = page.locator("table.recent-interactions tbody tr").first
    expect(row).to_contain_text("Inbound")
    expect(row).to_contain_text("3:05")
    expect(row).to_contain_text("Resolved")
    expect(row).to_contain_text("Reset the router.")
    screenshot()


def test_screen_pop_for_an_unknown_number_opens_the_add_form_prefilled(page, admin_login, alice, screenshot):
    page.goto(f"{admin_login}/crm/caller/?phone={quote('tel:+15550001111')}")
    expect(page).to_have_url(f"{admin_login}/admin/crm/customer/add/?phone=%2B15550001111")
    expect(page.locator("#id_phones-0-number")).to_have_value("+15550001111")
    screenshot()
