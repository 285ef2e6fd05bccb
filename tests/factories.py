"""factory_boy factories for tests."""

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from crm.models import Customer, CustomerPhone, Interaction, Tier
from lookup.models import LookupEvent


class TierFactory(DjangoModelFactory):
    class Meta:
        model = Tier
        django_get_or_create = ["name"]

    name = "Gold"
    rank = 20


class CustomerFactory(DjangoModelFactory):
    class Meta:
        model = Customer

    customer_id = factory.Sequence(lambda n: f"CUST-{n + 1000:06d}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    tier = factory.SubFactory(TierFactory)
    last_interaction_date = factory.Faker("date_between", start_date="-2y", end_date="today")


class CustomerPhoneFactory(DjangoModelFactory):
    class Meta:
        model = CustomerPhone

    customer = factory.SubFactory(CustomerFactory)
    # Fictional 555-01xx numbers: possible, never assigned to a real line.
    number = factory.Sequence(lambda n: f"+1202555{n % 10000:04d}")
    label = CustomerPhone.Label.MOBILE


class LookupEventFactory(DjangoModelFactory):
    class Meta:
        model = LookupEvent

    token_name = "genesys-test"
    phone_number = "+15550000000"
    outcome = LookupEvent.Outcome.NOT_FOUND
    duration_ms = 12.5


class InteractionFactory(DjangoModelFactory):
    class Meta:
        model = Interaction

    conversation_id = factory.Sequence(lambda n: f"conv-{n:08d}")
    ani = "+15550000000"
    direction = Interaction.Direction.INBOUND
    media_type = "voice"
    duration_ms = 60_000
    occurred_at = factory.LazyFunction(timezone.now)


def customer_form(tier: Tier, **overrides) -> dict:
    """POST data for the customer add/change form with one phone row."""
    data = {
        "customer_id": "CUST-100",
        "first_name": "Carol",
        "last_name": "Diaz",
        "tier": tier.pk,
        "last_interaction_date": "",
        "notes": "",
        "phones-TOTAL_FORMS": "1",
        "phones-INITIAL_FORMS": "0",
        "phones-MIN_NUM_FORMS": "0",
        "phones-MAX_NUM_FORMS": "1000",
        "phones-0-number": "(555) 010-0199",
        "phones-0-label": "mobile",
    }
    data.update(overrides)
    return data
