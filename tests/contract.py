"""The lookup API contract of design §7 as the tests state it: the path, the exact bodies, and two helpers."""

import json

URL = "/api/customer/lookup"
ALICE_BODY = (
    b'{"status":"success","data":{"customerId":"CUST-001","firstName":"Alice","lastName":"Smith",'
    b'"tier":"Gold","lastInteractionDate":"2023-10-15"}}'
)
NOT_FOUND_BODY = b'{"status":"not_found","data":null}'
UNAUTHORIZED_BODY = b'{"error":"Unauthorized"}'
MISSING_BODY = b'{"error":"Missing phoneNumber field"}'


def post(client, body, content_type="application/json"):
    """POST a body (a dict is sent as JSON, str and bytes as they are) to the lookup."""
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(URL, data=data, content_type=content_type)


def assert_json(response, status, body: bytes):
    """The exact status and body, with the two headers every API answer carries."""
    assert (response.status_code, response.content) == (status, body)
    assert response["Content-Type"] == "application/json"
    assert response["X-Content-Type-Options"] == "nosniff"
