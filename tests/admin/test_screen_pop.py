"""The screen pop GET /crm/caller/?phone=..., and opt-in framing by the agent desktop."""

from http import HTTPStatus
from urllib.parse import quote

import pytest
from django.test import override_settings
from django.urls import reverse

from crm.views import candidate_numbers
from tests.factories import CustomerFactory, CustomerPhoneFactory
from tests.processes import PRODUCTION_ENV
from tests.processes import manage as run_manage

pytestmark = pytest.mark.django_db

URL = "/crm/caller/"
GENESYS = "https://apps.mypurecloud.com"


@pytest.mark.parametrize("phone", ["tel:+15551234567", "+15551234567", "(555) 123-4567", "sip:+15551234567@host"])
def test_known_caller_goes_to_the_customer_page(admin_client, alice, phone):
    response = admin_client.get(URL, {"phone": phone})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("admin:crm_customer_change", args=[alice.pk])


def test_unknown_caller_goes_to_the_add_form_with_the_number_filled_in(admin_client, alice):
    response = admin_client.get(URL, {"phone": "tel:+15550001111"})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("admin:crm_customer_add") + "?phone=%2B15550001111"
    form = admin_client.get(response["Location"])
    assert 'value="+15550001111"' in form.content.decode()


def test_ambiguous_number_offers_a_chooser(admin_client, alice):
    # 2025550143 is a US number, and also +20 25550143 (Egypt) written without its "+".
    us = CustomerFactory(customer_id="CUST-US", first_name="Una", last_name="States")
    CustomerPhoneFactory(customer=us, number="+12025550143")
    eg = CustomerFactory(customer_id="CUST-EG", first_name="Eli", last_name="Gypt")
    CustomerPhoneFactory(customer=eg, number="+2025550143")
    response = admin_client.get(URL, {"phone": "2025550143"})
    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert "<title>Which customer is calling? | Customer CRM</title>" in page
    us_url, eg_url = (reverse("admin:crm_customer_change", args=[c.pk]) for c in (us, eg))
    assert page.index(f'<a href="{eg_url}">Eli Gypt (CUST-EG)</a>') < page.index(
        f'<a href="{us_url}">Una States (CUST-US)</a>'
    )


@pytest.mark.parametrize("phone", ["", "anonymous", "sip:anonymous@anonymous.invalid", "tel:"])
def test_withheld_number_says_so(admin_client, phone):
    response = admin_client.get(URL, {"phone": phone})
    assert response.status_code == HTTPStatus.OK
    assert "<p>The caller withheld their number, so no customer can be looked up.</p>" in response.content.decode()


def test_unparseable_text_is_named(admin_client):
    response = admin_client.get(URL, {"phone": "<script>x</script>"})
    assert response.status_code == HTTPStatus.OK
    assert "<strong>&lt;script&gt;x&lt;/script&gt;</strong> is not a phone number" in response.content.decode()


def test_overlong_input_is_no_number(admin_client):
    response = admin_client.get(URL, {"phone": "1" * 5000})
    assert response.status_code == HTTPStatus.OK
    assert "is not a phone number" not in response.content.decode()


def test_anonymous_user_is_sent_to_the_login_with_the_pop_as_next(client, alice):
    response = client.get(URL, {"phone": "tel:+15551234567"})
    assert response.status_code == HTTPStatus.FOUND
    # The query string arrives encoded (tel%3A%2B...), and is encoded once more as next's value.
    assert response["Location"] == "/admin/login/?next=" + quote("/crm/caller/?phone=tel%3A%2B15551234567", safe="/")


def test_non_staff_user_is_sent_to_the_login(client, django_user_model, alice):
    client.force_login(django_user_model.objects.create_user("plain", password="x"))
    assert client.get(URL, {"phone": "+15551234567"}).status_code == HTTPStatus.FOUND


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("tel:+15551234567", ["+15551234567"]),
        ("2025550143", ["+12025550143", "+2025550143"]),
        ("(202) 555-0143", ["+12025550143"]),
        ("442083661177", ["+442083661177"]),
        ("anonymous", []),
        ("", []),
    ],
)
def test_candidate_numbers(raw, expected):
    assert candidate_numbers(raw) == expected


# -- framing ---------------------------------------------------------------------------


def test_pages_refuse_framing_by_default(admin_client, alice):
    response = admin_client.get(reverse("admin:crm_customer_change", args=[alice.pk]))
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]  # the site-wide CSP forbids it too


@override_settings(FRAME_ANCESTORS=[GENESYS])
@pytest.mark.parametrize(
    "path",
    [URL + "?phone=anonymous", "/admin/login/", "/admin/crm/customer/add/", "CUSTOMER_PAGE"],
)
def test_screen_pop_pages_may_be_framed_by_the_configured_origins(admin_client, client, alice, path):
    path = reverse("admin:crm_customer_change", args=[alice.pk]) if path == "CUSTOMER_PAGE" else path
    response = (client if path == "/admin/login/" else admin_client).get(path)
    assert response.status_code == HTTPStatus.OK
    assert "X-Frame-Options" not in response
    assert f"frame-ancestors 'self' {GENESYS}" in response["Content-Security-Policy"]


@override_settings(FRAME_ANCESTORS=[GENESYS])
@pytest.mark.parametrize("path", ["/admin/", "/admin/crm/customer/", "/admin/auth/user/"])
def test_other_pages_still_refuse_framing(admin_client, path):
    response = admin_client.get(path)
    assert response["X-Frame-Options"] == "DENY"
    assert GENESYS not in response.get("Content-Security-Policy", "")


COOKIES = "from django.conf import settings as s; print(s.SESSION_COOKIE_SAMESITE, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SAMESITE)"


def test_session_cookie_is_samesite_none_and_secure_only_with_frame_ancestors_and_tls():
    framed = {**PRODUCTION_ENV, "DJANGO_FRAME_ANCESTORS": GENESYS}
    assert run_manage("shell", "-v0", "-c", COOKIES, env=framed).stdout == "None True None\n"
    no_tls = {**framed, "DJANGO_BEHIND_TLS_PROXY": "0"}
    assert run_manage("shell", "-v0", "-c", COOKIES, env=no_tls).stdout == "Lax False Lax\n"
    assert run_manage("shell", "-v0", "-c", COOKIES, env=PRODUCTION_ENV).stdout == "Lax True Lax\n"


def test_check_deploy_is_clean_with_frame_ancestors():
    env = {**PRODUCTION_ENV, "DJANGO_FRAME_ANCESTORS": f"{GENESYS},https://*.pure.cloud"}
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


@pytest.mark.parametrize("origin", ["*", "'none'", "apps.mypurecloud.com", "https://x.com; script-src *"])
def test_malformed_frame_ancestor_is_refused_at_start(origin):
    result = run_manage("check", env={**PRODUCTION_ENV, "DJANGO_FRAME_ANCESTORS": origin})
    assert result.returncode == 1
    assert f"DJANGO_FRAME_ANCESTORS: {origin!r} is not an origin such as https://apps.mypurecloud.com" in result.stderr
