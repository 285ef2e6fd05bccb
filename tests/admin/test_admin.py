"""Admin pages for support staff, driven through the test client."""

from http import HTTPStatus

import pytest
from django.urls import reverse

from crm.models import Customer, CustomerPhone, Tier
from tests.factories import customer_form

pytestmark = pytest.mark.django_db


def post_refused(admin_client, tier: Tier, **fields):
    """POST the add form; it must come back (200) with its errors and add no customer."""
    before = Customer.objects.count()
    response = admin_client.post(reverse("admin:crm_customer_add"), customer_form(tier, **fields))
    assert response.status_code == HTTPStatus.OK
    assert Customer.objects.count() == before
    return response


@pytest.mark.parametrize(
    "url_name",
    ["admin:crm_customer_changelist", "admin:crm_customer_add", "admin:crm_tier_changelist", "admin:crm_tier_add"],
)
def test_pages_render(admin_client, alice, url_name):
    assert admin_client.get(reverse(url_name)).status_code == HTTPStatus.OK


def test_changelist_shows_tier_and_phones_in_few_queries(admin_client, alice, bob, django_assert_max_num_queries):
    # session, user, customers page, phones prefetch, tier filter choices, ...: bounded, not per row
    with django_assert_max_num_queries(8):
        response = admin_client.get(reverse("admin:crm_customer_changelist"))
    content = response.content.decode()
    assert "Alice" in content and "Bob" in content
    assert "+15551234567" in content and "Gold" in content and "Silver" in content


@pytest.mark.parametrize(
    "term", ["(555) 123-4567", "+15551234567", "555-123-4567", "5551234567", "tel:+15551234567", "1 555 123 4567"]
)
def test_search_by_phone_in_any_format(admin_client, alice, bob, term):
    response = admin_client.get(reverse("admin:crm_customer_changelist"), {"q": term})
    assert list(response.context["cl"].result_list) == [alice]


@pytest.mark.parametrize("term", ["CUST-002", "cust-002", "Jones", "jon", "bob jones", "Bob J"])
def test_search_by_id_and_name(admin_client, alice, bob, term):
    response = admin_client.get(reverse("admin:crm_customer_changelist"), {"q": term})
    assert list(response.context["cl"].result_list) == [bob]


def test_filter_by_tier(admin_client, alice, bob):
    response = admin_client.get(reverse("admin:crm_customer_changelist"), {"tier__id__exact": bob.tier.pk})
    assert list(response.context["cl"].result_list) == [bob]


def test_add_customer_with_national_phone_stores_e164(admin_client, alice):
    response = admin_client.post(reverse("admin:crm_customer_add"), customer_form(alice.tier))
    assert response.status_code == HTTPStatus.FOUND
    carol = Customer.objects.get(customer_id="CUST-100")
    assert list(carol.phones.values_list("number", flat=True)) == ["+15550100199"]


def test_duplicate_phone_in_other_format_is_a_form_error(admin_client, alice):
    response = post_refused(admin_client, alice.tier, **{"phones-0-number": "555.123.4567"})
    assert response.context["inline_admin_formsets"][0].formset.errors == [
        {"number": ["+15551234567 already belongs to Alice Smith (CUST-001)."]}
    ]


def test_same_number_twice_on_one_form_is_a_form_error(admin_client, alice):
    second = {"phones-TOTAL_FORMS": "2", "phones-1-number": "+1 555 010 0199", "phones-1-label": "work"}
    response = post_refused(admin_client, alice.tier, **second)
    assert response.context["inline_admin_formsets"][0].formset.non_form_errors() == [
        "Please correct the duplicate data for number."
    ]


def test_impossible_phone_is_a_form_error(admin_client, alice):
    response = post_refused(admin_client, alice.tier, **{"phones-0-number": "12345"})
    assert response.context["inline_admin_formsets"][0].formset.errors == [
        {"number": ["Enter a phone number such as +15551234567 or (555) 123-4567; 12345 is not a possible number."]}
    ]


def test_duplicate_customer_id_is_a_form_error(admin_client, alice):
    response = post_refused(admin_client, alice.tier, customer_id="CUST-001")
    assert response.context["adminform"].form.errors == {
        "customer_id": ["Customer with this Customer ID already exists."]
    }


def test_change_customer_keeps_phone_and_timestamps_readonly(admin_client, alice):
    url = reverse("admin:crm_customer_change", args=[alice.pk])
    page = admin_client.get(url)
    assert page.status_code == HTTPStatus.OK
    assert 'name="created_at"' not in page.content.decode()
    phone = alice.phones.get()
    data = customer_form(
        alice.tier,
        customer_id="CUST-001",
        first_name="Alicia",
        **{
            "phones-INITIAL_FORMS": "1",
            "phones-0-id": str(phone.pk),
            "phones-0-customer": str(alice.pk),
            "phones-0-number": "(555) 123-4567",
        },
    )
    response = admin_client.post(url, data)
    assert response.status_code == HTTPStatus.FOUND
    alice.refresh_from_db()
    assert alice.first_name == "Alicia"
    assert list(CustomerPhone.objects.values_list("number", flat=True)) == ["+15551234567"]


def test_tier_in_use_cannot_be_deleted_from_admin(admin_client, alice):
    response = admin_client.post(reverse("admin:crm_tier_delete", args=[alice.tier.pk]), {"post": "yes"})
    assert response.status_code == HTTPStatus.OK
    assert "Cannot delete tier" in response.content.decode()
    assert Tier.objects.filter(pk=alice.tier.pk).exists()
