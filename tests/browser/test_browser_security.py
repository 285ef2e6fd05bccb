"""Security in a real browser: no CSP violation anywhere, the lockout page, two-factor enrol and sign-in."""

import base64
import re
import time

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import expect

from lookup.models import LookupEvent
from tests.factories import LookupEventFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Chromium reports each blocked script, style or image on the console; the listener below also
# turns every securitypolicyviolation event into a console line, in case a message is worded otherwise.
REPORT_VIOLATIONS = """
document.addEventListener('securitypolicyviolation', (e) => console.error(
  'CSP violation: ' + e.violatedDirective + ' blocked ' + e.blockedURI + ' at ' + e.sourceFile + ':' + e.lineNumber));
"""


@pytest.fixture
def csp_violations(page):
    """Console lines about Content-Security-Policy violations on any page this test opens."""
    seen = []

    def on_console(message):
        if "Content Security Policy" in message.text or "CSP violation" in message.text:
            seen.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    page.add_init_script(REPORT_VIOLATIONS)
    return seen


def sign_in(page, url, username="admin", password="password"):
    page.goto(f"{url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")


def test_the_violation_detector_sees_a_blocked_inline_style(page, csp_violations, live_server):
    page.goto(f"{live_server.url}/admin/login/")
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<div style=\"color: red\">x</div>')")
    page.wait_for_timeout(200)
    assert any("style-src" in line for line in csp_violations), csp_violations


def test_pages_work_with_the_policy_on(page, csp_violations, live_server, admin_user, alice, screenshot):
    LookupEventFactory.create_batch(3, outcome=LookupEvent.Outcome.SUCCESS, customer=alice)
    url = live_server.url
    sign_in(page, url)
    expect(page.locator("#site-name")).to_contain_text("Customer CRM")
    # The admin's own scripts run: theme toggle, inline formsets, calendar shortcuts, actions.
    page.wait_for_load_state("load")  # theme.js binds the toggle at load: a click before it does nothing
    page.click("button.theme-toggle")
    expect(page.locator("html")).to_have_attribute("data-theme", re.compile(r"^(light|dark)$"))
    page.goto(f"{url}/admin/crm/customer/")
    expect(page.locator("#result_list")).to_contain_text("Alice")
    page.click("#action-toggle")
    expect(page.locator(".action-counter")).to_contain_text("1 of 1 selected")
    page.goto(f"{url}/admin/crm/customer/{alice.pk}/change/")
    expect(page.locator(".add-row a")).to_be_visible()  # made by inlines.js
    expect(page.locator(".datetimeshortcuts").first).to_be_visible()  # made by DateTimeShortcuts.js
    expect(page.locator("table.recent-lookups tbody tr")).to_have_count(3)
    page.goto(f"{url}/admin/lookup/apitoken/add/")
    page.fill("#id_name", "genesys-prod")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("Copy it now, it will not be shown again")
    page.goto(f"{url}/admin/insights/")
    expect(page.locator("#outcome-chart g.bar")).to_have_count(24)
    fill = page.evaluate("getComputedStyle(document.querySelector('#outcome-chart rect.fill-success')).fill")
    assert fill in ("rgb(46, 125, 50)", "rgb(102, 187, 106)")  # the stylesheet (a file now) applies
    page.goto(f"{url}/admin/insights/unknown-callers/")
    page.goto(f"{url}/admin/lookup/lookupevent/")
    expect(page.locator("#result_list tbody tr")).to_have_count(3)
    page.goto(f"{url}/admin/axes/accessattempt/")
    page.goto(f"{url}/admin/two-factor/")
    expect(page.locator("#totp-qr svg")).to_be_visible()
    page.goto(f"{url}/api/docs/")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible(timeout=15000)
    expect(page.locator(".swagger-ui")).to_contain_text("/api/customer/lookup")
    screenshot("-swagger")
    assert csp_violations == []


def test_lockout_page(page, csp_violations, live_server, admin_user, screenshot):
    for _ in range(4):
        sign_in(page, live_server.url, password="wrong")
        expect(page.locator(".errornote")).to_contain_text("Please enter the correct username and password")
    sign_in(page, live_server.url, password="wrong")
    expect(page.locator(".lockout .errornote")).to_have_text("Sign-in is locked after 5 failed attempts.")
    until = page.locator("#locked-until").text_content()
    expected = time.strftime("%H:%M", time.gmtime(time.time() + 15 * 60))
    assert until in (expected, time.strftime("%H:%M", time.gmtime(time.time() + 15 * 60 - 60)))
    screenshot()
    # The right password does not get through until then.
    sign_in(page, live_server.url)
    expect(page.locator("#locked-until")).to_have_text(until)
    assert csp_violations == []


def totp_code(secret: str, steps_ahead: int = 0) -> str:
    key = base64.b32decode(secret.replace(" ", "") + "=" * (-len(secret.replace(" ", "")) % 8))
    totp = TOTP(key, step=30, t0=0, digits=6, drift=0)
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def test_enrol_log_out_and_sign_in_with_a_code(page, csp_violations, live_server, admin_user, settings, screenshot):
    settings.ADMIN_REQUIRE_2FA = "superuser"
    url = live_server.url
    sign_in(page, url)
    # Mandatory for a superuser: the first page after the password is the enrolment.
    expect(page).to_have_url(f"{url}/admin/two-factor/?next=/admin/")
    expect(page.locator(".errornote")).to_have_text(
        "Your account must use two-factor sign-in. Set it up now to continue."
    )
    expect(page.locator("#totp-qr svg")).to_be_visible()
    secret = page.locator("#totp-secret").text_content()
    screenshot("-enrol")
    page.fill("#id_code", totp_code(secret))
    page.click("#enrol-form input[type=submit]")
    expect(page.locator(".messagelist")).to_contain_text("Two-factor sign-in is on.")
    expect(page.locator("#backup-codes li")).to_have_count(10)
    screenshot("-backup-codes")
    page.click("#continue")
    expect(page.locator("#site-name")).to_be_visible()
    page.click("#logout-form button")
    expect(page.locator("#content")).to_contain_text("Logged out")

    sign_in(page, url)
    expect(page).to_have_url(f"{url}/admin/login/verify/")
    expect(page.locator("#content-main")).to_contain_text("Enter the code from your authenticator app.")
    screenshot("-code-step")
    page.fill("#id_code", totp_code(secret, steps_ahead=1))  # the enrolment used this step's code
    page.click("#verify-form input[type=submit]")
    expect(page).to_have_url(f"{url}/admin/")
    expect(page.locator("#two-factor-link")).to_be_visible()
    page.goto(f"{url}/admin/crm/customer/")
    expect(page.locator("#changelist")).to_be_visible()  # verified: not sent to enrolment again
    assert csp_violations == []
