"""The lookup API contract of design §7 as the tests state it: the path, the exact bodies, and its helpers."""

import json

from lookup import audit
from lookup.models import LookupEvent

URL = "/api/customer/lookup"
ALICE_BODY = (
    b'{"status":"success","data":{"customerId":"CUST-001","firstName":"Alice","lastName":"Smith",'
    b'"tier":"Gold","lastInteractionDate":"2023-10-15"}}'
)
ALICE_DATA = json.loads(ALICE_BODY)["data"]
NOT_FOUND_BODY = b'{"status":"not_found","data":null}'
UNAUTHORIZED_BODY = b'{"error":"Unauthorized"}'
MISSING_BODY = b'{"error":"Missing phoneNumber field"}'


def customer_end_event(conversation_id: str, event_time_ms: int) -> dict:
    """Alice's inbound voice call as Genesys' customer.end detail event hands it to POST /api/interactions."""
    return {
        "conversationId": conversation_id,
        "event": "customer_end",
        "eventTime": event_time_ms,
        "ani": "tel:+15551234567",
        "dnis": "tel:+18005550100",
        "direction": "INBOUND",
        "mediaType": "VOICE",
        "disconnectType": "PEER",
        "durationMs": 95000,
    }


def post(client, body, content_type="application/json"):
    """POST a body (a dict is sent as JSON, str and bytes as they are) to the lookup."""
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(URL, data=data, content_type=content_type)


def assert_json(response, status, body: bytes):
    """The exact status and body, with the two headers every API answer carries."""
    assert (response.status_code, response.content) == (status, body)
    assert response["Content-Type"] == "application/json"
    assert response["X-Content-Type-Options"] == "nosniff"


def audit_rows() -> list[tuple]:
    """The lookups' audit rows (outcome, token name, phone, customer), after writing any still buffered."""
    audit.flush_pending()  # a no-op where each row is written inline (tests/settings.py)
    return list(LookupEvent.objects.order_by("id").values_list("outcome", "token_name", "phone_number", "customer_id"))
