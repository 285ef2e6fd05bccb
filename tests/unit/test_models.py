"""Model integrity: normalisation on save and database constraints."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from crm.models import Customer, CustomerPhone, Tier
from tests.factories import CustomerFactory, CustomerPhoneFactory, TierFactory
from tests.unit.test_phones import ACCEPTED

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("raw", ACCEPTED)
def test_every_accepted_format_is_stored_as_e164(raw):
    phone = CustomerPhone(customer=CustomerFactory(), number=raw)
    phone.full_clean()
    phone.save()
    assert CustomerPhone.objects.values_list("number", flat=True).get(pk=phone.pk) == "+15551234567"
    assert str(phone.number) == "+15551234567"


def test_orm_create_normalises_without_full_clean():
    phone = CustomerPhone.objects.create(customer=CustomerFactory(), number="(555) 123-4567")
    assert CustomerPhone.objects.filter(number="+15551234567").get() == phone


@pytest.mark.parametrize("raw", ["123", "555-1234", "hello", "+1555123456789012", "anonymous"])
def test_impossible_numbers_are_rejected_by_validation(raw):
    phone = CustomerPhone(customer=CustomerFactory(), number=raw)
    with pytest.raises(ValidationError) as excinfo:
        phone.full_clean()
    assert excinfo.value.message_dict == {
        "number": [f"Enter a phone number such as +15551234567 or (555) 123-4567; {raw} is not a possible number."]
    }


def test_duplicate_phone_in_other_format_names_its_customer(alice):
    phone = CustomerPhone(customer=CustomerFactory(), number="(555) 123-4567")
    with pytest.raises(ValidationError) as excinfo:
        phone.full_clean()
    assert excinfo.value.message_dict == {"number": ["+15551234567 already belongs to Alice Smith (CUST-001)."]}


def test_phone_may_be_saved_again_by_its_owner(alice):
    phone = alice.phones.get()
    phone.label = CustomerPhone.Label.WORK
    phone.full_clean()
    phone.save()


def test_database_rejects_duplicate_phone_even_without_validation(alice):
    with pytest.raises(IntegrityError), transaction.atomic():
        CustomerPhone.objects.create(customer=CustomerFactory(), number="555-123-4567")


def test_database_rejects_duplicate_customer_id(alice):
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.create(customer_id="CUST-001", first_name="A", last_name="B", tier=alice.tier)


def test_tier_with_customers_cannot_be_deleted(alice):
    with pytest.raises(ProtectedError):
        alice.tier.delete()
    assert Tier.objects.filter(name="Gold").exists()


def test_deleting_customer_deletes_its_phones(alice):
    alice.delete()
    assert not CustomerPhone.objects.exists()


def test_lookup_by_phone_is_one_query(alice, django_assert_num_queries):
    from crm.phones import normalize_phone
    from crm.selectors import Caller, customer_by_phone

    with django_assert_num_queries(1):
        caller = customer_by_phone(normalize_phone("tel:+1 (555) 123-4567"))
    assert caller == Caller(alice.pk, "CUST-001", "Alice", "Smith", "Gold", "2023-10-15")


def test_lookup_without_usable_number_makes_no_query(db, django_assert_num_queries):
    from crm.phones import normalize_phone
    from crm.selectors import customer_by_phone

    with django_assert_num_queries(0):
        assert customer_by_phone(normalize_phone("anonymous")) is None


def test_str_methods(alice):
    assert str(alice) == "Alice Smith (CUST-001)"
    assert str(alice.tier) == "Gold"
    assert str(alice.phones.get()) == "+15551234567"
    assert str(TierFactory(name="Bronze")) == "Bronze"
    assert str(CustomerPhoneFactory(number="+12025550100").number) == "+12025550100"


def test_plain_sql_caller_query_matches_the_orm(alice, bob, django_assert_num_queries):
    from crm.selectors import Caller, customer_by_phone

    for customer in (alice, bob):
        number = str(customer.phones.get().number)
        orm = Customer.objects.select_related("tier").get(phones__number=number)
        with django_assert_num_queries(1):
            caller = customer_by_phone(number)
        assert caller == Caller(
            orm.pk,
            orm.customer_id,
            orm.first_name,
            orm.last_name,
            orm.tier.name,
            orm.last_interaction_date.isoformat(),
        )
    assert customer_by_phone("+15550000000") is None


def test_plain_sql_caller_without_date_gives_empty_string(alice):
    from crm.selectors import customer_by_phone

    alice.last_interaction_date = None
    alice.save()
    assert customer_by_phone("+15551234567").last_interaction_date == ""
