"""Shared fixtures."""

import os

import pytest

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests
# make beside it are safe (one thread), so Django's async guard is switched off.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from crm.models import Customer  # noqa: E402
from tests.factories import CustomerFactory, CustomerPhoneFactory, TierFactory  # noqa: E402


@pytest.fixture
def alice(db) -> Customer:
    """The demo's Gold customer, +15551234567."""
    gold = TierFactory(name="Gold", rank=20)
    customer = CustomerFactory(
        customer_id="CUST-001", first_name="Alice", last_name="Smith", tier=gold, last_interaction_date="2023-10-15"
    )
    CustomerPhoneFactory(customer=customer, number="+15551234567")
    return customer


@pytest.fixture
def bob(db) -> Customer:
    """The demo's Silver customer, +15559876543."""
    silver = TierFactory(name="Silver", rank=10)
    customer = CustomerFactory(
        customer_id="CUST-002", first_name="Bob", last_name="Jones", tier=silver, last_interaction_date="2023-11-01"
    )
    CustomerPhoneFactory(customer=customer, number="+15559876543")
    return customer


@pytest.fixture
def token(db) -> str:
    """The raw value of an active lookup token named genesys-test."""
    from lookup.services import token_create

    _, raw = token_create(name="genesys-test")
    return raw


@pytest.fixture
def api(token):
    """A DRF client that sends the Bearer token."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def anon_api():
    """A DRF client without credentials."""
    from rest_framework.test import APIClient

    return APIClient()
