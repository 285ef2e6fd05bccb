"""The lookup API contract (design §7): one test per row, exact bodies and headers."""

import json

import pytest
from django.db import DatabaseError
from django.test import override_settings

from lookup.models import ApiToken, LookupEvent
from tests.contract import ALICE_BODY, MISSING_BODY, NOT_FOUND_BODY, UNAUTHORIZED_BODY, URL, assert_json, post
from tests.unit import test_phones as phone_cases

pytestmark = pytest.mark.django_db


# -- found / not found ---------------------------------------------------------------


def test_found_returns_exact_envelope(api, alice):
    assert_json(post(api, {"phoneNumber": "+15551234567"}), 200, ALICE_BODY)


def test_found_by_get_returns_the_same_envelope(api, alice):
    assert_json(api.get(URL, {"phoneNumber": "tel:+15551234567"}), 200, ALICE_BODY)


def test_data_has_five_string_keys_in_order(api, alice):
    body = post(api, {"phoneNumber": "+15551234567"}).json()
    assert list(body) == ["status", "data"]
    assert list(body["data"]) == ["customerId", "firstName", "lastName", "tier", "lastInteractionDate"]
    assert all(isinstance(value, str) for value in body["data"].values())


def test_unknown_last_interaction_date_is_empty_string(api, alice):
    alice.last_interaction_date = None
    alice.save()
    assert post(api, {"phoneNumber": "+15551234567"}).json()["data"]["lastInteractionDate"] == ""


def test_admin_edit_is_visible_on_next_lookup(api, alice):
    alice.tier.name = "Platinum"
    alice.tier.save()
    assert post(api, {"phoneNumber": "+15551234567"}).json()["data"]["tier"] == "Platinum"


def test_unknown_number_is_not_found(api, alice):
    assert_json(post(api, {"phoneNumber": "+15550000000"}), 200, NOT_FOUND_BODY)


def test_unknown_number_by_get_is_not_found(api, alice):
    assert_json(api.get(URL, {"phoneNumber": "+15550000000"}), 200, NOT_FOUND_BODY)


FORMATS = [
    "+15551234567",
    "5551234567",
    "(555) 123-4567",
    "555-123-4567",
    "555.123.4567",
    "15551234567",
    "+1 555 123 4567",
    "tel:+15551234567",
    "tel: +15551234567",
    "tel:+15551234567;ext=12",
    "sip:+15551234567@sbc.example.com;user=phone",
    "sips:+15551234567@sbc.example.com",
]


@pytest.mark.parametrize("number", FORMATS)
def test_every_format_finds_alice(api, alice, number):
    assert_json(post(api, {"phoneNumber": number}), 200, ALICE_BODY)


@pytest.mark.parametrize("number", FORMATS)
def test_every_format_finds_alice_by_get(api, alice, number):
    assert_json(api.get(URL, {"phoneNumber": number}), 200, ALICE_BODY)


# Every input the normalisation turns into "no number" that a caller can send as phoneNumber.
NO_NUMBER = [raw for raw in phone_cases.NO_NUMBER if raw is None or isinstance(raw, str)]


@pytest.mark.parametrize("number", NO_NUMBER)
def test_no_usable_number_is_not_found(api, alice, number):
    assert_json(post(api, {"phoneNumber": number}), 200, NOT_FOUND_BODY)


def test_extra_keys_are_ignored(api, alice):
    assert_json(post(api, {"phoneNumber": "+15551234567", "conversationId": "abc"}), 200, ALICE_BODY)


def test_curl_default_form_content_type_is_read_as_json(api, alice):
    # `curl -d '{...}'` sends application/x-www-form-urlencoded.
    response = post(api, '{"phoneNumber":"(555) 123-4567"}', content_type="application/x-www-form-urlencoded")
    assert_json(response, 200, ALICE_BODY)


def test_json_with_charset_is_accepted(api, alice):
    response = post(api, {"phoneNumber": "+15551234567"}, content_type="application/json; charset=utf-8")
    assert_json(response, 200, ALICE_BODY)


# -- 400 ------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [{}, {"phone": "+15551234567"}, {"PhoneNumber": "+15551234567"}, b""])
def test_missing_field_is_400(api, body):
    assert_json(post(api, body), 400, MISSING_BODY)


def test_missing_query_parameter_is_400(api):
    assert_json(api.get(URL), 400, MISSING_BODY)


@pytest.mark.parametrize(
    "body",
    [b"{", b"phoneNumber=+15551234567", b'{"phoneNumber": "+1555"', b"\xff\xfe", b'{"phoneNumber": NaN}'],
)
def test_malformed_json_is_400(api, body):
    response = post(api, body)
    assert response.status_code == 400
    assert list(response.json()) == ["error"]
    assert response.json()["error"].startswith("Malformed JSON body: ")


@pytest.mark.parametrize("body", [[], ["+15551234567"], "+15551234567", 15551234567, None, True])
def test_non_object_json_is_400(api, body):
    assert_json(
        post(api, json.dumps(body)),
        400,
        b'{"error":"Request body must be a JSON object such as {\\"phoneNumber\\": \\"+15551234567\\"}"}',
    )


@pytest.mark.parametrize("value", [15551234567, 1.5, True, ["+15551234567"], {"n": "+15551234567"}])
def test_phone_number_of_wrong_type_is_400(api, value):
    assert_json(post(api, {"phoneNumber": value}), 400, b'{"error":"phoneNumber must be a string or null"}')


def test_deep_nesting_is_400_not_500(api):
    response = post(api, b"[" * 5000 + b"]" * 5000)
    assert response.status_code == 400
    assert response.json()["error"].startswith("Malformed JSON body: ")


# -- 401 ------------------------------------------------------------------------------


def assert_unauthorized(response):
    assert_json(response, 401, UNAUTHORIZED_BODY)
    assert response["WWW-Authenticate"] == "Bearer"


def test_no_header_is_401(anon_api, alice):
    assert_unauthorized(post(anon_api, {"phoneNumber": "+15551234567"}))


def test_no_header_on_get_is_401(anon_api, alice):
    assert_unauthorized(anon_api.get(URL, {"phoneNumber": "+15551234567"}))


@pytest.mark.parametrize(
    "header",
    [
        "Token {token}",
        "Basic dXNlcjpwYXNz",
        "{token}",
        "bearer wrong-token-value-000000000000",
        "Bearer wrong-token-value-000000000000",
        "Bearer ",
        "Bearer",
        "Bearer {token} extra",
        "Bearer  {token}",
        "Bearer {token} ",
        " Bearer {token}",
        "Bearer\t{token}",
        "Bearer {token}x",
    ],
)
def test_bad_header_is_401(anon_api, alice, token, header):
    anon_api.credentials(HTTP_AUTHORIZATION=header.format(token=token))
    assert_unauthorized(post(anon_api, {"phoneNumber": "+15551234567"}))


def test_lowercase_scheme_with_right_token_is_accepted(anon_api, alice, token):
    # RFC 7235: the scheme is case-insensitive.
    anon_api.credentials(HTTP_AUTHORIZATION=f"bearer {token}")
    assert_json(post(anon_api, {"phoneNumber": "+15551234567"}), 200, ALICE_BODY)


def test_revoked_token_is_401_on_next_request(api, alice):
    assert post(api, {"phoneNumber": "+15551234567"}).status_code == 200
    ApiToken.objects.get(name="genesys-test").revoke()
    assert_unauthorized(post(api, {"phoneNumber": "+15551234567"}))


def test_authentication_comes_before_body_parsing(anon_api):
    assert_unauthorized(post(anon_api, b"{not json"))
    assert_unauthorized(post(anon_api, b"x" * 70_000))


@override_settings(LOOKUP_SECRET="shared-secret-from-the-tutorial-1234")
def test_lookup_secret_is_accepted(anon_api, alice):
    anon_api.credentials(HTTP_AUTHORIZATION="Bearer shared-secret-from-the-tutorial-1234")
    assert_json(post(anon_api, {"phoneNumber": "+15551234567"}), 200, ALICE_BODY)
    assert LookupEvent.objects.get().token_name == "LOOKUP_SECRET"


@override_settings(LOOKUP_SECRET="")
def test_empty_lookup_secret_accepts_nothing(anon_api, alice):
    anon_api.credentials(HTTP_AUTHORIZATION="Bearer ")
    assert_unauthorized(post(anon_api, {"phoneNumber": "+15551234567"}))


# -- other errors ---------------------------------------------------------------------


def test_body_over_64_kib_is_413(api):
    body = json.dumps({"phoneNumber": "+15551234567", "pad": "x" * 70_000})
    assert_json(post(api, body), 413, b'{"error":"Request body is larger than 64 KiB"}')


def test_body_just_under_64_kib_is_read(api, alice):
    body = json.dumps({"phoneNumber": "+15551234567", "pad": "x" * 65_000})
    assert_json(post(api, body), 200, ALICE_BODY)


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "multipart/form-data; boundary=x"])
def test_unsupported_media_type_is_415(api, content_type):
    response = post(api, '{"phoneNumber": "+15551234567"}', content_type=content_type)
    assert response.status_code == 415
    assert response.json() == {"error": f'Unsupported media type "{content_type}" in request.'}


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_other_methods_are_405_json(api, method):
    response = getattr(api, method)(URL, data="{}", content_type="application/json")
    assert response.status_code == 405
    assert response.json() == {"error": f'Method "{method.upper()}" not allowed.'}


def test_unknown_api_path_is_404_json(api):
    response = api.get("/api/nope")
    assert (response.status_code, response.content) == (404, b'{"error":"Not found"}')
    assert response["Content-Type"] == "application/json"


def test_unexpected_exception_is_500_json(api, monkeypatch, caplog):
    def boom(e164, using=None):
        raise RuntimeError("a bug")

    monkeypatch.setattr("lookup.api.views.customer_by_phone", boom)
    assert_json(post(api, {"phoneNumber": "+15551234567"}), 500, b'{"error":"Internal server error"}')
    assert "RuntimeError: a bug" in caplog.text


def test_django_handler500_answers_the_api_500_bytes(rf):
    from django.utils.module_loading import import_string

    from config.urls import handler500

    response = import_string(handler500)(rf.get("/api/customer/lookup"))
    assert (response.status_code, response.content) == (500, b'{"error":"Internal server error"}')
    assert response["Content-Type"] == "application/json"


def test_database_error_is_503_json(api, monkeypatch):
    def down(e164, using=None):
        raise DatabaseError("connection refused")

    monkeypatch.setattr("lookup.api.views.customer_by_phone", down)
    assert_json(post(api, {"phoneNumber": "+15551234567"}), 503, b'{"error":"Database unavailable; try again shortly"}')


# -- budget ---------------------------------------------------------------------------


def test_successful_lookup_makes_at_most_three_queries(api, alice, django_assert_max_num_queries):
    post(api, {"phoneNumber": "+15551234567"})  # first use of the minute also writes last_used_at
    with django_assert_max_num_queries(3):
        assert post(api, {"phoneNumber": "+15551234567"}).status_code == 200


def test_withheld_caller_makes_two_queries(api, alice, django_assert_num_queries):
    post(api, {"phoneNumber": "anonymous"})
    with django_assert_num_queries(2):  # token, audit insert: no customer query without a number
        post(api, {"phoneNumber": "anonymous"})


def test_api_skips_browser_middleware_that_the_admin_keeps(api, alice, admin_client):
    response = post(api, {"phoneNumber": "+15551234567"})
    assert "Vary" not in response  # no session or cookie work on the API
    assert response.wsgi_request.user.token_name == "genesys-test"  # set by DRF, not a lazy session user
    assert not hasattr(response.wsgi_request, "_messages")
    page = admin_client.get("/admin/")
    assert page.status_code == 200
    assert page["X-Frame-Options"] == "DENY"
    assert page.wsgi_request.user.is_superuser
