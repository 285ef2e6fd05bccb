"""POST /api/interactions: exact bodies, idempotence, auth, one clear 400 per malformed field."""

import datetime as dt
import json
import logging

import pytest
from django.core.cache import cache
from django.db import DatabaseError

from crm.models import Interaction
from lookup.api.throttling import TokenRateThrottle
from lookup.models import LookupEvent
from tests.contract import ALICE_BODY, UNAUTHORIZED_BODY, assert_json, customer_end_event
from tests.contract import URL as LOOKUP_URL

pytestmark = pytest.mark.django_db

URL = "/api/interactions"
CONV = "5b0b9c8e-4a5f-4f3e-9d7a-0c2e8f6a1b23"
# 2024-03-05 14:30:00 UTC and 14:32:30 UTC, in milliseconds as Genesys sends them.
END_MS = 1709649000000
ACW_MS = 1709649150000

CUSTOMER_END = customer_end_event(CONV, END_MS)
AFTER_CALL_WORK = {
    "conversationId": CONV,
    "event": "after_call_work",
    "eventTime": ACW_MS,
    "queueId": "3b5a1e4c-queue",
    "userId": "9f8e7d6c-agent",
    "wrapupCode": "Resolved",
    "wrapupNotes": "Reset the router.",
}


def post(client, body, content_type="application/json"):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(URL, data=data, content_type=content_type)


def result(status: str, customer_id: str = "CUST-001") -> bytes:
    return json.dumps(
        {"status": status, "data": {"conversationId": CONV, "customerId": customer_id}}, separators=(",", ":")
    ).encode()


def test_first_event_creates_then_second_merges_then_repeat_changes_nothing(api, alice):
    assert_json(post(api, CUSTOMER_END), 201, result("created"))
    assert_json(post(api, AFTER_CALL_WORK), 200, result("updated"))
    assert_json(post(api, AFTER_CALL_WORK), 200, result("unchanged"))
    assert_json(post(api, CUSTOMER_END), 200, result("unchanged"))
    interaction = Interaction.objects.get()
    assert (interaction.ani, interaction.direction, interaction.media_type, interaction.disconnect_type) == (
        "+15551234567",
        "inbound",
        "voice",
        "peer",
    )
    assert (interaction.queue_id, interaction.agent_id, interaction.wrapup_code) == (
        "3b5a1e4c-queue",
        "9f8e7d6c-agent",
        "Resolved",
    )
    assert interaction.ended_at == dt.datetime(2024, 3, 5, 14, 30, tzinfo=dt.UTC)
    assert interaction.occurred_at == dt.datetime(2024, 3, 5, 14, 32, 30, tzinfo=dt.UTC)


def test_wrapup_first_is_unmatched_until_the_customer_end_arrives(api, alice):
    assert_json(post(api, AFTER_CALL_WORK), 201, result("created", customer_id=""))
    assert_json(post(api, CUSTOMER_END), 200, result("updated"))


def test_the_lookup_then_answers_with_the_new_date(api, alice):
    post(api, CUSTOMER_END)
    response = api.post(LOOKUP_URL, {"phoneNumber": "+15551234567"}, format="json")
    assert response.content == ALICE_BODY.replace(b"2023-10-15", b"2024-03-05")


def test_unknown_caller_is_recorded_unmatched(api, alice):
    assert_json(post(api, {**CUSTOMER_END, "ani": "+15550001111"}), 201, result("created", customer_id=""))
    assert Interaction.objects.get().customer_id is None


def test_only_required_fields(api):
    body = {"conversationId": CONV, "event": "customer_end", "eventTime": END_MS}
    assert_json(post(api, body), 201, result("created", customer_id=""))


def test_empty_strings_are_absent_values(api, alice):
    body = {**CUSTOMER_END, "dnis": "", "direction": "", "mediaType": "", "durationMs": "", "ani": ""}
    assert_json(post(api, body), 201, result("created", customer_id=""))
    interaction = Interaction.objects.get()
    assert (interaction.ani, interaction.direction, interaction.duration_ms) == ("", "", None)


def test_quoted_numbers_and_iso_times_are_accepted(api, alice):
    body = {**CUSTOMER_END, "eventTime": "2024-03-05T14:30:00.000Z", "durationMs": "95000"}
    assert_json(post(api, body), 201, result("created"))
    assert Interaction.objects.get().duration_ms == 95000
    assert_json(post(api, {**AFTER_CALL_WORK, "eventTime": str(ACW_MS)}), 200, result("updated"))


def test_unknown_keys_are_ignored(api, alice):
    assert_json(post(api, {**CUSTOMER_END, "participantId": "p-1", "wrapupDurationMs": 5}), 201, result("created"))


def test_lookup_stays_read_only(api, alice):
    api.post(LOOKUP_URL, {"phoneNumber": "+15551234567"}, format="json")
    assert Interaction.objects.count() == 0
    alice.refresh_from_db()
    assert str(alice.last_interaction_date) == "2023-10-15"


# -- refused requests -----------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "Bearer wrong-token", "Token abc", "Bearer ", "Bearer  two-spaces"], ids=str)
def test_missing_or_bad_token_is_401(anon_api, header):
    if header:
        anon_api.credentials(HTTP_AUTHORIZATION=header)
    response = post(anon_api, CUSTOMER_END)
    assert_json(response, 401, UNAUTHORIZED_BODY)
    assert response["WWW-Authenticate"] == "Bearer"
    assert Interaction.objects.count() == 0


def test_auth_is_checked_before_the_body(anon_api):
    assert_json(post(anon_api, "{not json"), 401, UNAUTHORIZED_BODY)


MALFORMED = [
    ("[1, 2]", 'Request body must be a JSON object such as {"conversationId": "...", "event": "customer_end"}'),
    ("{oops", None),  # orjson's message follows "Malformed JSON body: "
    ({}, "Missing conversationId field"),
    ({"conversationId": ""}, "Missing conversationId field"),
    ({"conversationId": 42}, "conversationId must be a string"),
    ({"conversationId": "x" * 65}, "conversationId must be at most 64 printable ASCII characters, no spaces"),
    ({"conversationId": "a b"}, "conversationId must be at most 64 printable ASCII characters, no spaces"),
    ({"conversationId": "a\nb"}, "conversationId must be at most 64 printable ASCII characters, no spaces"),
    ({"conversationId": "conv-ü"}, "conversationId must be at most 64 printable ASCII characters, no spaces"),
    ({"conversationId": CONV}, "Missing event field (customer_end or after_call_work)"),
    ({"conversationId": CONV, "event": "transfer"}, "event must be customer_end or after_call_work"),
    ({"conversationId": CONV, "event": ["customer_end"]}, "event must be customer_end or after_call_work"),
    (
        {"conversationId": CONV, "event": "customer_end"},
        "Missing eventTime field (milliseconds since the epoch, e.g. 1709649000000)",
    ),
    ({**CUSTOMER_END, "eventTime": True}, "eventTime must be an integer number of milliseconds"),
    ({**CUSTOMER_END, "eventTime": 1.5}, "eventTime must be an integer number of milliseconds"),
    ({**CUSTOMER_END, "eventTime": -1}, "eventTime must not be negative"),
    ({**CUSTOMER_END, "eventTime": "yesterday"}, "eventTime must be milliseconds since the epoch or an ISO 8601 time"),
    (
        {**CUSTOMER_END, "eventTime": "2024-03-05T14:30:00"},
        "eventTime in ISO 8601 needs a time zone, e.g. 2024-03-05T14:30:00Z",
    ),
    (
        {**CUSTOMER_END, "eventTime": 1709649000},
        "eventTime is out of range (before 2000 or more than a day ahead); milliseconds, not seconds",
    ),
    (
        {**CUSTOMER_END, "eventTime": 99999999999999},
        "eventTime is out of range (before 2000 or more than a day ahead); milliseconds, not seconds",
    ),
    ({**CUSTOMER_END, "eventTime": 10**18}, "eventTime is out of range"),
    ({**CUSTOMER_END, "ani": 15551234567}, "ani must be a string or null"),
    ({**CUSTOMER_END, "ani": "1" * 101}, "ani must be at most 100 characters"),
    ({**CUSTOMER_END, "dnis": {}}, "dnis must be a string or null"),
    ({**CUSTOMER_END, "direction": "sideways"}, "direction must be one of INBOUND, OUTBOUND"),
    ({**CUSTOMER_END, "direction": 1}, "direction must be a string or null"),
    (
        {**CUSTOMER_END, "mediaType": "fax"},
        "mediaType must be one of CALLBACK, CHAT, COBROWSE, EMAIL, MESSAGE, SCREENSHARE, UNKNOWN, VIDEO, VOICE",
    ),
    ({**CUSTOMER_END, "disconnectType": "x" * 31}, "disconnectType must be at most 30 characters"),
    ({**CUSTOMER_END, "durationMs": -5}, "durationMs must not be negative"),
    ({**CUSTOMER_END, "durationMs": "95s"}, "durationMs must be an integer number of milliseconds"),
    ({**CUSTOMER_END, "durationMs": 10**12}, "durationMs is out of range (more than 31 days)"),
    ({**AFTER_CALL_WORK, "queueId": ["q"]}, "queueId must be a string or null"),
    ({**AFTER_CALL_WORK, "userId": "u" * 65}, "userId must be at most 64 characters"),
    ({**AFTER_CALL_WORK, "wrapupCode": 7}, "wrapupCode must be a string or null"),
    ({**AFTER_CALL_WORK, "wrapupCode": "c" * 101}, "wrapupCode must be at most 100 characters"),
    ({**AFTER_CALL_WORK, "wrapupNotes": "n" * 4001}, "wrapupNotes must be at most 4000 characters"),
]


@pytest.mark.parametrize(("body", "message"), MALFORMED, ids=[str(i) for i in range(len(MALFORMED))])
def test_malformed_field_is_a_clear_400(api, body, message):
    response = post(api, body)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    error = response.json()
    assert list(error) == ["error"]
    if message is None:
        assert error["error"].startswith("Malformed JSON body: ")
    else:
        assert error == {"error": message}
    assert Interaction.objects.count() == 0


def test_body_over_64_kib_is_413(api):
    response = post(api, {**CUSTOMER_END, "wrapupNotes": "n" * 70_000})
    assert_json(response, 413, b'{"error":"Request body is larger than 64 KiB"}')


def test_wrong_content_type_is_415(api):
    response = api.post(URL, data="conversationId=x", content_type="text/plain")
    assert response.status_code == 415
    assert list(response.json()) == ["error"]


def test_get_is_405(api):
    response = api.get(URL)
    assert_json(response, 405, b'{"error":"Method \\"GET\\" not allowed."}')


def test_throttled_is_429_with_retry_after_and_the_lookup_keeps_its_own_budget(api, alice, monkeypatch):
    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {"lookup": "3/min", "interactions": "2/min"})
    monkeypatch.setattr(TokenRateThrottle, "timer", lambda self: 999_960.0)
    cache.clear()
    assert post(api, CUSTOMER_END).status_code == 201
    assert post(api, AFTER_CALL_WORK).status_code == 200
    response = post(api, AFTER_CALL_WORK)
    assert_json(response, 429, b'{"error":"Request was throttled. Expected available in 60 seconds."}')
    assert response["Retry-After"] == "60"
    assert api.post(LOOKUP_URL, {"phoneNumber": "+15551234567"}, format="json").status_code == 200
    cache.clear()


def test_database_outage_is_503(api, monkeypatch):
    def down(**kwargs):
        raise DatabaseError("connection refused")

    monkeypatch.setattr("lookup.api.interactions.interaction_record", down)
    assert_json(post(api, CUSTOMER_END), 503, b'{"error":"Database unavailable; try again shortly"}')


def test_every_request_is_logged_with_its_token(api, anon_api, alice, caplog):
    with caplog.at_level(logging.INFO, logger="lookup.api.interactions"):
        post(api, CUSTOMER_END)
        post(api, {"conversationId": CONV})
        post(anon_api, CUSTOMER_END)
    lines = [r.getMessage() for r in caplog.records if r.name == "lookup.api.interactions"]
    assert len(lines) == 3
    assert lines[0].startswith(
        f"interaction recorded token=genesys-test conversation={CONV} event=customer_end outcome=created"
        " customer=CUST-001 ms="
    )
    assert lines[1].startswith(
        "interaction refused token=genesys-test status=400 reason='Missing event field (customer_end or after_call_work)' ms="
    )
    assert lines[2].startswith("interaction refused token=- status=401 reason='Unauthorized' ms=")


def test_no_lookup_events_are_written(api, alice):
    post(api, CUSTOMER_END)
    assert LookupEvent.objects.count() == 0
