"""POST /api/customer/lookup-by-id: callers who type their customer number get the lookup's envelope."""

import json

import pytest
from django.core.cache import cache

from lookup.api.throttling import TokenRateThrottle
from tests.contract import ALICE_BODY, NOT_FOUND_BODY, audit_rows

pytestmark = pytest.mark.django_db

URL = "/api/customer/lookup-by-id"


def post(client, body):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(URL, data=data, content_type="application/json")


def answer(response) -> tuple[int, bytes, str, str]:
    return response.status_code, response.content, response["Content-Type"], response["X-Content-Type-Options"]


@pytest.mark.parametrize("typed", ["CUST-001", "cust-001", "Cust-001", " CUST-001 ", "001"])
def test_a_customer_number_in_any_case_or_without_prefix_finds_the_customer(api, alice, typed):
    assert answer(post(api, {"customerId": typed})) == (200, ALICE_BODY, "application/json", "nosniff")


@pytest.mark.parametrize("typed", ["CUST-002", "1", "CUST-0001", "", "   ", None, "x" * 40, "CUST-001%"])
def test_anything_else_is_not_found(api, alice, typed):
    assert answer(post(api, {"customerId": typed})) == (200, NOT_FOUND_BODY, "application/json", "nosniff")


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({}, b'{"error":"Missing customerId field"}'),
        ({"phoneNumber": "+15551234567"}, b'{"error":"Missing customerId field"}'),
        ({"customerId": 1}, b'{"error":"customerId must be a string or null"}'),
        (["CUST-001"], b'{"error":"Request body must be a JSON object such as {\\"customerId\\": \\"CUST-001\\"}"}'),
        (b"{not json", None),
    ],
)
def test_bad_bodies_are_400_with_one_error_key(api, alice, body, error):
    response = post(api, body)
    assert response.status_code == 400 and list(response.json()) == ["error"]
    if error is not None:
        assert response.content == error


def test_no_token_is_401_before_the_body_is_read(anon_api, alice):
    response = anon_api.post(URL, data=b"{not json", content_type="application/json")
    assert (response.status_code, response.content, response["WWW-Authenticate"]) == (
        401,
        b'{"error":"Unauthorized"}',
        "Bearer",
    )


def test_get_is_not_allowed(api, alice):
    response = api.get(URL, {"customerId": "CUST-001"})
    assert response.status_code == 405 and list(response.json()) == ["error"]


def test_every_lookup_is_audited(api, anon_api, alice):
    post(api, {"customerId": "001"})
    post(api, {"customerId": "CUST-999"})
    post(api, {"customerId": ""})
    post(api, {})
    anon_api.post(URL, data="{}", content_type="application/json")
    # A typed customer number is no phone number: every row's phone is "none".
    assert audit_rows() == [
        ("success", "genesys-test", "none", alice.pk),
        *((outcome, "genesys-test", "none", None) for outcome in ["not_found", "no_number", "bad_request"]),
        ("unauthorized", "", "none", None),
    ]


def test_the_lookup_throttle_counts_both_endpoints(api, alice, monkeypatch):
    cache.clear()
    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {"lookup": "2/min"})
    monkeypatch.setattr(TokenRateThrottle, "timer", lambda self: 999_960.0)  # the start of a minute window
    assert api.post("/api/customer/lookup", {"phoneNumber": "+15551234567"}, format="json").status_code == 200
    assert post(api, {"customerId": "CUST-001"}).status_code == 200
    response = post(api, {"customerId": "CUST-001"})
    assert (response.status_code, response["Retry-After"]) == (429, "60")
    assert response.content == b'{"error":"Request was throttled. Expected available in 60 seconds."}'
    cache.clear()
