"""Genesys' two events for 1,000 conversations, shuffled with duplicates, through gunicorn."""

import datetime as dt
import json
import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from crm.models import Customer, CustomerPhone, Interaction, Tier
from tests.servers import gunicorn, http

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]

CONVERSATIONS = 1000
CUSTOMERS = 200
UNKNOWN_EVERY = 10  # every 10th conversation is an unknown caller
START = dt.datetime(2024, 1, 1, 9, 0, tzinfo=dt.UTC)


def millis(when: dt.datetime) -> int:
    return int(when.timestamp() * 1000)


def conversations(rng: random.Random) -> list[dict]:
    """Each conversation: who called, when the customer left, when the agent wrapped up."""
    calls = []
    for n in range(CONVERSATIONS):
        ended = START + dt.timedelta(minutes=rng.randint(0, 60 * 24 * 120))
        # Late-evening calls wrap up after midnight: the date comes from the latest event.
        wrapped = ended + dt.timedelta(seconds=rng.randint(5, 600))
        customer = None if n % UNKNOWN_EVERY == 0 else n % CUSTOMERS
        calls.append({"id": f"conv-{n:05d}", "customer": customer, "ended": ended, "wrapped": wrapped})
    return calls


def phone(customer: int) -> str:
    return f"+1202555{customer:04d}"


def events(call: dict) -> list[dict]:
    ani = phone(call["customer"]) if call["customer"] is not None else "+13035550000"
    return [
        {
            "conversationId": call["id"],
            "event": "customer_end",
            "eventTime": millis(call["ended"]),
            "ani": f"tel:{ani}",
            "dnis": "tel:+18005550100",
            "direction": "INBOUND",
            "mediaType": "VOICE",
            "disconnectType": "PEER",
            "durationMs": 120_000,
        },
        {
            "conversationId": call["id"],
            "event": "after_call_work",
            "eventTime": millis(call["wrapped"]),
            "queueId": "queue-support",
            "userId": "agent-7",
            "wrapupCode": "Resolved",
            "wrapupNotes": "",
        },
    ]


def test_shuffled_events_with_duplicates_give_one_interaction_per_conversation(token):
    rng = random.Random(17)
    tier = Tier.objects.create(name="Gold", rank=20)
    customers = Customer.objects.bulk_create(
        Customer(customer_id=f"CUST-{n:05d}", first_name="Caller", last_name=f"N{n}", tier=tier)
        for n in range(CUSTOMERS)
    )
    CustomerPhone.objects.bulk_create(CustomerPhone(customer=c, number=phone(n)) for n, c in enumerate(customers))
    calls = conversations(rng)
    sent = [event for call in calls for event in events(call)]
    sent += rng.sample(sent, 500)  # Genesys retries: the same event again
    rng.shuffle(sent)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    with gunicorn(workers=2) as (url, _):

        def send(event: dict) -> int:
            return http("POST", f"{url}/api/interactions", body=json.dumps(event).encode(), headers=headers)[0]

        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = Counter(pool.map(send, sent))

        assert statuses == {201: CONVERSATIONS, 200: len(sent) - CONVERSATIONS}
        assert Interaction.objects.count() == CONVERSATIONS
        assert Interaction.objects.filter(customer__isnull=True).count() == CONVERSATIONS // UNKNOWN_EVERY
        assert Interaction.objects.filter(wrapup_code="Resolved", ended_at__isnull=False).count() == CONVERSATIONS

        latest = {}
        for call in calls:
            if call["customer"] is not None:
                day = call["wrapped"].date()  # TIME_ZONE is UTC on the test server
                latest[call["customer"]] = max(latest.get(call["customer"], day), day)
        dates = dict(Customer.objects.values_list("customer_id", "last_interaction_date"))
        # Customers who never called (every tenth) keep no date.
        assert dates == {f"CUST-{n:05d}": latest.get(n) for n in range(CUSTOMERS)}

        # The lookup answers with that date.
        for n in rng.sample(sorted(latest), 20):
            status, _, body = http(
                "POST",
                f"{url}/api/customer/lookup",
                body=json.dumps({"phoneNumber": phone(n)}).encode(),
                headers=headers,
            )
            assert (status, json.loads(body)["data"]["lastInteractionDate"]) == (200, latest[n].isoformat())
