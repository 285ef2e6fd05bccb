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
