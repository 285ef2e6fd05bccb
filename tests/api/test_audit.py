"""Audit events for every lookup, their admin and retention."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from lookup.models import LookupEvent

pytestmark = pytest.mark.django_db

URL = "/api/customer/lookup"


def events():
    return list(LookupEvent.objects.order_by("id").values_list("outcome", "token_name", "phone_number", "customer_id"))


def test_each_outcome_is_recorded(api, anon_api, alice):
    api.post(URL, {"phoneNumber": "(555) 123-4567"}, format="json")
    api.post(URL, {"phoneNumber": "+15550000000"}, format="json")
    api.post(URL, {"phoneNumber": "anonymous"}, format="json")
    api.post(URL, {}, format="json")
    anon_api.post(URL, {"phoneNumber": "+15551234567"}, format="json")
    assert events() == [
        ("success", "genesys-test", "+15551234567", alice.pk),
        ("not_found", "genesys-test", "+15550000000", None),
        ("no_number", "genesys-test", "none", None),
        ("bad_request", "genesys-test", "none", None),
        ("unauthorized", "", "none", None),
    ]


def test_duration_is_recorded(api, alice):
    api.post(URL, {"phoneNumber": "+15551234567"}, format="json")
    event = LookupEvent.objects.get()
    assert 0 < event.duration_ms < 3000
    assert timezone.now() - event.created_at < timedelta(minutes=1)


def test_audit_admin_is_read_only_and_filterable(admin_client, api, alice):
    api.post(URL, {"phoneNumber": "+15551234567"}, format="json")
    api.post(URL, {"phoneNumber": "+15550000000"}, format="json")
    changelist = reverse("admin:lookup_lookupevent_changelist")
    response = admin_client.get(changelist, {"outcome": "success"})
    assert response.status_code == 200
    assert [e.outcome for e in response.context["cl"].result_list] == ["success"]
    assert reverse("admin:crm_customer_change", args=[alice.pk]) in response.content.decode()
    assert admin_client.get(changelist, {"token_name": "genesys-test"}).status_code == 200
    assert admin_client.get(reverse("admin:lookup_lookupevent_add")).status_code == 403
    event = LookupEvent.objects.first()
    page = admin_client.get(reverse("admin:lookup_lookupevent_change", args=[event.pk]))
    assert page.status_code == 200
    assert 'name="outcome"' not in page.content.decode()


def test_prune_deletes_only_old_events():
    now = timezone.now()
    for days in (0, 5, 40, 100):
        LookupEvent.objects.create(outcome="success", duration_ms=1, created_at=now - timedelta(days=days))
    out = StringIO()
    call_command("prune_lookup_events", days=30, stdout=out)
    assert out.getvalue().startswith("Deleted 2 lookup events older than ")
    assert LookupEvent.objects.count() == 2


def test_prune_dry_run_deletes_nothing():
    LookupEvent.objects.create(outcome="success", duration_ms=1, created_at=timezone.now() - timedelta(days=90))
    out = StringIO()
    call_command("prune_lookup_events", days=30, dry_run=True, stdout=out)
    assert out.getvalue().startswith("Would delete 1 lookup events older than ")
    assert LookupEvent.objects.count() == 1


def test_prune_rejects_zero_days():
    with pytest.raises(CommandError, match="--days must be at least 1."):
        call_command("prune_lookup_events", days=0)


def test_deleting_a_customer_keeps_its_events(api, alice):
    api.post(URL, {"phoneNumber": "+15551234567"}, format="json")
    alice.delete()
    assert events() == [("success", "genesys-test", "+15551234567", None)]


def test_plain_sql_insert_stores_the_same_row_as_the_orm(alice):
    from lookup.audit import record_lookup

    before = timezone.now()
    record_lookup(
        outcome="success", token_name="t", phone_number="+15551234567", customer_id=alice.pk, duration_ms=1.23456
    )
    record_lookup(outcome="no_number", token_name="", phone_number=None, customer_id=None, duration_ms=0.5)
    first, second = LookupEvent.objects.order_by("id")
    assert (first.outcome, first.token_name, first.phone_number, first.customer, first.duration_ms) == (
        "success",
        "t",
        "+15551234567",
        alice,
        1.235,
    )
    assert before <= first.created_at <= timezone.now()
    assert (second.outcome, second.phone_number, second.customer) == ("no_number", "none", None)


def test_any_accept_header_gets_json(api, alice):
    response = api.post(URL, {"phoneNumber": "+15551234567"}, format="json", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
