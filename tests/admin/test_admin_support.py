"""Support-staff admin features: bulk actions, search, the large-table paginator, recent lookups."""

from http import HTTPStatus

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm.models import Customer
from crm.paginators import LargeTablePaginator
from lookup.admin import RECENT_LOOKUPS
from lookup.models import LookupEvent
from tests.factories import CustomerFactory, CustomerPhoneFactory, TierFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:crm_customer_changelist"


def test_change_tier_action_shows_an_intermediate_page(admin_client, alice, bob):
    response = admin_client.post(
        reverse(CHANGELIST), {"action": "change_tier", ACTION_CHECKBOX_NAME: [alice.pk, bob.pk]}
    )
    assert response.status_code == HTTPStatus.OK
    assert response.templates[0].name == "admin/crm/customer/change_tier.html"
    page = response.content.decode()
    assert "Move 2 selected customers to another tier:" in page
    assert "Alice Smith (CUST-001) (Gold)" in page and "Bob Jones (CUST-002) (Silver)" in page
    assert Customer.objects.get(pk=bob.pk).tier.name == "Silver"  # nothing changed yet


def test_change_tier_action_applies_in_one_update(admin_client, alice, bob):
    bronze = TierFactory(name="Bronze", rank=0)
    data = {"action": "change_tier", "apply": "1", "tier": bronze.pk, ACTION_CHECKBOX_NAME: [alice.pk, bob.pk]}
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.post(reverse(CHANGELIST), data)
    assert response.status_code == HTTPStatus.FOUND
    # (The flash message is kept in the session, which is one more UPDATE of django_session.)
    updates = [
        q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE") and "django_session" not in q["sql"]
    ]
    assert len(updates) == 1 and '"crm_customer"' in updates[0]
    assert sorted(Customer.objects.values_list("customer_id", "tier__name")) == [
        ("CUST-001", "Bronze"),
        ("CUST-002", "Bronze"),
    ]
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["Moved 2 customer(s) to Bronze."]


def test_change_tier_with_unknown_tier_shows_the_form_again(admin_client, alice):
    data = {"action": "change_tier", "apply": "1", "tier": "999", ACTION_CHECKBOX_NAME: [alice.pk]}
    response = admin_client.post(reverse(CHANGELIST), data)
    assert response.status_code == HTTPStatus.OK
    assert response.context["form"].errors == {
        "tier": ["Select a valid choice. That choice is not one of the available choices."]
    }
    assert Customer.objects.get(pk=alice.pk).tier.name == "Gold"


def test_export_selected_action_writes_the_selection_and_offers_the_download(admin_client, alice, bob):
    response = admin_client.post(
        reverse(CHANGELIST), {"action": "export_selected_csv", ACTION_CHECKBOX_NAME: [bob.pk]}, follow=True
    )
    assert response.status_code == HTTPStatus.OK
    job = response.context["job"]
    assert (job.kind, job.state, job.options, job.rows_done) == (
        "export",
        "done",
        {"pks": [bob.pk], "format": "csv"},
        1,
    )
    download = admin_client.get(reverse("admin:crm_job_download", args=[job.pk]))
    assert download.status_code == HTTPStatus.OK
    assert b"".join(download.streaming_content).decode("utf-8-sig").replace("\r\n", "\n") == (
        "customer_id,first_name,last_name,tier,last_interaction_date,notes,phones\n"
        "CUST-002,Bob,Jones,Silver,2023-11-01,,mobile:+15559876543\n"
    )


def test_actions_offered(admin_client, alice):
    response = admin_client.get(reverse(CHANGELIST))
    choices = [name for name, _ in response.context["action_form"].fields["action"].choices if name]
    assert choices == ["delete_selected", "change_tier", "export_selected_csv", "export_selected_xlsx"]


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("CUST-00", ["CUST-001", "CUST-002"]),
        ("cust-002", ["CUST-002"]),
        ("smi", ["CUST-001"]),
        ("Alice Sm", ["CUST-001"]),
        ("alice jones", []),
        ("mith", []),  # prefixes only: infix matches would scan the table
        ("Alice", []),  # a first name alone is not indexed; "Alice S" is
        ("+15559876543", ["CUST-002"]),
    ],
)
def test_search_is_prefix_or_phone(admin_client, alice, bob, term, expected):
    response = admin_client.get(reverse(CHANGELIST), {"q": term})
    assert [c.customer_id for c in response.context["cl"].result_list] == expected


def test_changelist_runs_no_count_over_the_whole_table(admin_client, alice, bob, django_assert_max_num_queries):
    with django_assert_max_num_queries(8), CaptureQueriesContext(connection) as queries:
        response = admin_client.get(reverse(CHANGELIST))
    assert response.status_code == HTTPStatus.OK
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    # The only count is capped: COUNT over a LIMITed subquery, never the bare table.
    assert counts and all("LIMIT 10001" in sql for sql in counts), counts
    assert not any('COUNT(*) AS "__count" FROM "crm_customer"' in sql and "LIMIT" not in sql for sql in counts)


def test_changelist_query_count_does_not_grow_with_rows(admin_client, alice, django_assert_max_num_queries):
    for n in range(30):
        CustomerPhoneFactory(customer=CustomerFactory(tier=alice.tier), number=f"+1555010{n:04d}")
    with django_assert_max_num_queries(8):
        response = admin_client.get(reverse(CHANGELIST), {"tier__id__exact": alice.tier.pk})
    assert len(response.context["cl"].result_list) == 31


def test_paginator_caps_the_count(alice):
    paginator = LargeTablePaginator(Customer.objects.all(), 100)
    paginator.CAP = 0  # every table is "large" for this test
    assert paginator.count == 1 and paginator.is_capped


def test_paginator_estimates_the_unfiltered_count_on_postgresql(alice, bob):
    paginator = LargeTablePaginator(Customer.objects.all(), 100)
    paginator.CAP = 1
    if connection.vendor != "postgresql":
        # No planner statistics to read: the capped count is used.
        assert (paginator.count, paginator.is_estimate, paginator.is_capped) == (2, False, True)
        return
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE crm_customer")
    with CaptureQueriesContext(connection) as queries:
        assert paginator.count == 2
    assert paginator.is_estimate
    assert [q["sql"] for q in queries.captured_queries] == [
        "SELECT reltuples::bigint FROM pg_class WHERE oid = 'crm_customer'::regclass"
    ]


def test_paginator_counts_filtered_querysets_exactly_below_the_cap(alice, bob):
    paginator = LargeTablePaginator(Customer.objects.filter(tier__name="Gold"), 100)
    assert (paginator.count, paginator.is_estimate, paginator.is_capped) == (1, False, False)


def test_customer_page_shows_recent_lookups_newest_first(admin_client, alice, bob):
    now = timezone.now()
    for minutes in range(RECENT_LOOKUPS + 5):
        LookupEvent.objects.create(
            created_at=now - timezone.timedelta(minutes=minutes),
            token_name=f"tok-{minutes}",
            phone_number="+15551234567",
            outcome="success",
            customer=alice,
            duration_ms=1.5,
        )
    LookupEvent.objects.create(
        token_name="other", phone_number="+15559876543", outcome="success", customer=bob, duration_ms=1
    )
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(reverse("admin:crm_customer_change", args=[alice.pk]))
    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    shown = [f"tok-{m}<" for m in range(RECENT_LOOKUPS + 5) if f"<td>tok-{m}</td>" in page]
    assert shown == [f"tok-{m}<" for m in range(RECENT_LOOKUPS)]  # newest 20 only
    assert page.index("<td>tok-0</td>") < page.index("<td>tok-1</td>")
    assert "<td>other</td>" not in page
    event_queries = [q for q in queries.captured_queries if "lookup_lookupevent" in q["sql"]]
    assert len(event_queries) == 1
    link = reverse("admin:lookup_lookupevent_changelist") + f"?customer__id__exact={alice.pk}"
    assert f'href="{link}"' in page


def test_all_lookups_link_filters_the_audit_changelist(admin_client, alice, bob):
    LookupEvent.objects.create(phone_number="+15551234567", outcome="success", customer=alice, duration_ms=1)
    LookupEvent.objects.create(phone_number="+15559876543", outcome="success", customer=bob, duration_ms=1)
    response = admin_client.get(reverse("admin:lookup_lookupevent_changelist"), {"customer__id__exact": alice.pk})
    assert response.status_code == HTTPStatus.OK
    assert [e.customer_id for e in response.context["cl"].result_list] == [alice.pk]


def test_customer_without_lookups_says_so(admin_client, alice):
    response = admin_client.get(reverse("admin:crm_customer_change", args=[alice.pk]))
    assert "No lookups yet." in response.content.decode()


def test_audit_changelist_links_to_the_customer(admin_client, alice):
    LookupEvent.objects.create(phone_number="+15551234567", outcome="success", customer=alice, duration_ms=1)
    LookupEvent.objects.create(phone_number="none", outcome="no_number", duration_ms=1)
    response = admin_client.get(reverse("admin:lookup_lookupevent_changelist"))
    page = response.content.decode()
    url = reverse("admin:crm_customer_change", args=[alice.pk])
    assert f'<a href="{url}">Alice Smith (CUST-001)</a>' in page


def test_add_page_has_no_recent_lookups_section(admin_client):
    response = admin_client.get(reverse("admin:crm_customer_add"))
    assert response.status_code == HTTPStatus.OK
    assert "Recent lookups" not in response.content.decode()


def test_capped_count_is_worded_as_such(admin_client, alice, bob, monkeypatch):
    monkeypatch.setattr(LargeTablePaginator, "CAP", 1)
    response = admin_client.get(reverse(CHANGELIST), {"q": "CUST-00"})
    page = response.content.decode()
    assert '<span class="small quiet">more than 1 results (' in page
    assert "more than 1 customers" in page


def test_exact_count_is_worded_plainly(admin_client, alice, bob):
    page = admin_client.get(reverse(CHANGELIST), {"q": "CUST-00"}).content.decode()
    assert '<span class="small quiet">2 results (' in page
    assert "\n2 customers\n" in page
