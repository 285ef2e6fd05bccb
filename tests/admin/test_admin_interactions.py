"""The Interactions admin: filters, search, no full counts, read-only for support staff; the customer page."""

import datetime as dt
from http import HTTPStatus
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm.admin_interactions import RECENT_INTERACTIONS, format_duration
from crm.models import Customer, Interaction
from tests.factories import InteractionFactory, customer_form

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:crm_interaction_changelist"


@pytest.fixture
def calls(alice):
    """Three interactions: two of Alice's (Resolved / Escalated) and one unknown caller."""
    now = timezone.now()
    rows = [
        ("conv-a1", alice, "+15551234567", "support", "Resolved", dt.timedelta(minutes=1)),
        ("conv-a2", alice, "+15551234567", "billing", "Escalated", dt.timedelta(days=3)),
        ("conv-u1", None, "+15550001111", "support", "Resolved", dt.timedelta(days=40)),
    ]
    return [
        InteractionFactory(
            conversation_id=conversation,
            customer=customer,
            ani=ani,
            queue_id=queue,
            wrapup_code=code,
            occurred_at=now - ago,
        )
        for conversation, customer, ani, queue, code, ago in rows
    ]


def shown(response) -> list[str]:
    return [i.conversation_id for i in response.context["cl"].result_list]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["conv-a1", "conv-a2", "conv-u1"]),
        ({"wrapup_code": "Resolved"}, ["conv-a1", "conv-u1"]),
        ({"queue_id": "billing"}, ["conv-a2"]),
        ({"matched": "yes"}, ["conv-a1", "conv-a2"]),
        ({"matched": "no"}, ["conv-u1"]),
        ({"q": "conv-a2"}, ["conv-a2"]),
        ({"q": "(555) 000-1111"}, ["conv-u1"]),
        ({"q": "tel:+15551234567"}, ["conv-a1", "conv-a2"]),
        ({"q": "nothing"}, []),
    ],
)
def test_filters_and_search(admin_client, calls, params, expected):
    response = admin_client.get(reverse(CHANGELIST), params)
    assert response.status_code == HTTPStatus.OK
    assert shown(response) == expected


def test_date_filter_past_7_days(admin_client, calls):
    cl = admin_client.get(reverse(CHANGELIST)).context["cl"]
    spec = next(s for s in cl.filter_specs if s.title == "time")
    link = next(c["query_string"] for c in spec.choices(cl) if c["display"] == "Past 7 days")
    assert shown(admin_client.get(reverse(CHANGELIST) + link)) == ["conv-a1", "conv-a2"]


def test_filter_choices_come_from_recent_interactions(admin_client, calls):
    response = admin_client.get(reverse(CHANGELIST))
    filters = {
        spec.title: [c["display"] for c in spec.choices(response.context["cl"])]
        for spec in response.context["cl"].filter_specs
    }
    assert filters["wrap-up code"] == ["All", "Escalated", "Resolved"]
    assert filters["queue"] == ["All", "billing", "support"]
    assert filters["caller"] == ["All", "Matched to a customer", "Unknown caller"]


def test_a_selected_value_outside_the_window_stays_offered(admin_client, calls, monkeypatch):
    monkeypatch.setattr("crm.admin_interactions.RECENT_VALUES_WINDOW", 1)
    response = admin_client.get(reverse(CHANGELIST), {"queue_id": "billing"})
    spec = next(s for s in response.context["cl"].filter_specs if s.title == "queue")
    assert [c["display"] for c in spec.choices(response.context["cl"])] == ["All", "support", "billing"]
    assert shown(response) == ["conv-a2"]


def test_changelist_runs_no_count_over_the_whole_table(admin_client, calls, django_assert_max_num_queries):
    with django_assert_max_num_queries(10), CaptureQueriesContext(connection) as queries:
        response = admin_client.get(reverse(CHANGELIST), {"matched": "yes"})
    assert response.status_code == HTTPStatus.OK
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counts and all("LIMIT 10001" in sql for sql in counts), counts
    # The filters' choices come from the latest 10,000 rows, never a DISTINCT over the table.
    assert not [q["sql"] for q in queries.captured_queries if "DISTINCT" in q["sql"].upper()]
    choices = [q["sql"] for q in queries.captured_queries if q["sql"].endswith("LIMIT 10000")]
    assert len(choices) == 2, choices


def test_changelist_query_count_does_not_grow_with_rows(admin_client, alice, django_assert_max_num_queries):
    InteractionFactory.create_batch(40, customer=alice)
    with django_assert_max_num_queries(10):
        response = admin_client.get(reverse(CHANGELIST))
    assert len(response.context["cl"].result_list) == 40


def test_changelist_row_shows_customer_link_and_duration(admin_client, calls, alice):
    page = admin_client.get(reverse(CHANGELIST)).content.decode()
    url = reverse("admin:crm_customer_change", args=[alice.pk])
    assert f'<a href="{url}">Alice Smith (CUST-001)</a>' in page
    assert "unknown caller" in page
    assert '<td class="field-duration">1:00</td>' in page


@pytest.mark.parametrize(("ms", "text"), [(None, "-"), (0, "0:00"), (12_345, "0:12"), (3_723_000, "1:02:03")])
def test_format_duration(ms, text):
    assert format_duration(ms) == text


def test_nobody_adds_or_edits_interactions(admin_client, calls):
    assert admin_client.get(reverse("admin:crm_interaction_add")).status_code == HTTPStatus.FORBIDDEN
    page = admin_client.get(reverse("admin:crm_interaction_change", args=[calls[0].pk])).content.decode()
    assert 'name="_save"' not in page
    assert (
        admin_client.post(
            reverse("admin:crm_interaction_change", args=[calls[0].pk]), {"wrapup_code": "Hacked"}
        ).status_code
        == HTTPStatus.FORBIDDEN
    )
    assert Interaction.objects.get(pk=calls[0].pk).wrapup_code == "Resolved"


@pytest.fixture
def support_client(client, monkeypatch):
    monkeypatch.setenv("SUPPORT_PW", "correct-horse-battery-9")
    call_command("create_support_user", "sam", "--password-from-env", "SUPPORT_PW", stdout=StringIO())
    client.force_login(User.objects.get(username="sam"))
    return client


def test_support_staff_view_but_cannot_change_or_delete(support_client, calls):
    assert support_client.get(reverse(CHANGELIST)).status_code == HTTPStatus.OK
    change = reverse("admin:crm_interaction_change", args=[calls[0].pk])
    assert support_client.get(change).status_code == HTTPStatus.OK
    assert support_client.post(change, {"wrapup_code": "Hacked"}).status_code == HTTPStatus.FORBIDDEN
    delete = reverse("admin:crm_interaction_delete", args=[calls[0].pk])
    assert support_client.get(delete).status_code == HTTPStatus.FORBIDDEN
    assert Interaction.objects.get(pk=calls[0].pk).wrapup_code == "Resolved"


def test_customer_page_lists_recent_interactions_newest_first(support_client, alice, bob):
    now = timezone.now()
    for minutes in range(RECENT_INTERACTIONS + 5):
        InteractionFactory(
            customer=alice,
            occurred_at=now - dt.timedelta(minutes=minutes),
            wrapup_code=f"code-{minutes}",
            direction="inbound",
            duration_ms=125_000,
            queue_id="support",
            agent_id="agent-7",
            wrapup_notes="Line one\nline two",
        )
    InteractionFactory(customer=bob, wrapup_code="bobs-call")
    with CaptureQueriesContext(connection) as queries:
        response = support_client.get(reverse("admin:crm_customer_change", args=[alice.pk]))
    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    listed = [m for m in range(RECENT_INTERACTIONS + 5) if f"<td>code-{m}</td>" in page]
    assert listed == list(range(RECENT_INTERACTIONS))
    assert page.index("<td>code-0</td>") < page.index("<td>code-1</td>")
    assert "bobs-call" not in page
    assert (
        "<td>Inbound</td><td>2:05</td><td>support</td><td>agent-7</td><td>code-0</td><td>Line one<br>line two</td>"
        in page
    )
    assert page.index("Recent lookups") < page.index("Recent interactions")
    interaction_queries = [q for q in queries.captured_queries if '"crm_interaction"' in q["sql"]]
    assert len(interaction_queries) == 1
    link = reverse(CHANGELIST) + f"?customer__id__exact={alice.pk}"
    assert f'href="{link}"' in page


def test_a_customer_added_from_the_worklist_shows_that_numbers_calls(admin_client, alice):
    InteractionFactory(ani="+15550001111", wrapup_code="Asked for a callback", occurred_at=timezone.now())
    form = customer_form(alice.tier, **{"phones-0-number": "(555) 000-1111"})
    response = admin_client.post(reverse("admin:crm_customer_add"), form)
    assert response.status_code == HTTPStatus.FOUND
    carol = Customer.objects.get(customer_id="CUST-100")
    assert carol.last_interaction_date == timezone.localdate()
    page = admin_client.get(reverse("admin:crm_customer_change", args=[carol.pk])).content.decode()
    assert "<td>Asked for a callback</td>" in page and "No interactions yet." not in page


def test_all_interactions_link_filters_the_changelist(admin_client, calls, alice):
    response = admin_client.get(reverse(CHANGELIST), {"customer__id__exact": alice.pk})
    assert shown(response) == ["conv-a1", "conv-a2"]


def test_customer_without_interactions_says_so(admin_client, alice):
    page = admin_client.get(reverse("admin:crm_customer_change", args=[alice.pk])).content.decode()
    assert "No interactions yet." in page


def test_add_page_has_no_recent_interactions(admin_client):
    response = admin_client.get(reverse("admin:crm_customer_add"))
    assert response.status_code == HTTPStatus.OK
    assert "Recent interactions" not in response.content.decode()
