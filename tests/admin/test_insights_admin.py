"""The insights admin pages: permissions, what they show, their query budget, the prefilled add form."""

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from lookup.models import LookupEvent
from tests.factories import CustomerPhoneFactory, InteractionFactory, LookupEventFactory

pytestmark = pytest.mark.django_db

INSIGHTS = "/admin/insights/"
UNKNOWN = "/admin/insights/unknown-callers/"


def worklist_row(rank: int, number: str, lookups: int, calls: int, last_seen: str) -> str:
    """One row of the unknown-caller table as the page renders it."""
    q = number.replace("+", "%2B")
    lookups_cell = (
        f'<a href="/admin/lookup/lookupevent/?q={q}&amp;outcome=not_found" title="These lookups in the audit trail">'
        f"{lookups}</a>"
        if lookups
        else "0"
    )
    calls_cell = (
        f'<a href="/admin/crm/interaction/?q={q}&amp;matched=no" title="These interactions">{calls}</a>'
        if calls
        else "0"
    )
    return f"""<tr>
      <td class="num">{rank}</td>
      <td>{number}</td>
      <td class="num">{lookups_cell}</td>
      <td class="num">{calls_cell}</td>
      <td>{last_seen}</td>
      <td><a class="addlink" href="/admin/crm/customer/add/?phone={q}">Add customer</a></td>
    </tr>"""


@pytest.fixture
def support_user(db) -> User:
    """Staff with only the permission the "Support staff" group grants for insights."""
    user = User.objects.create_user("sam", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_lookupevent"))
    return user


def test_urls_are_the_documented_ones():
    assert reverse("insights:index") == INSIGHTS
    assert reverse("insights:unknown-callers") == UNKNOWN


@pytest.mark.parametrize("url", [INSIGHTS, UNKNOWN])
def test_anonymous_is_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/admin/login/?next={url}"


@pytest.mark.parametrize("url", [INSIGHTS, UNKNOWN])
def test_staff_without_permission_is_refused(client, url):
    client.force_login(User.objects.create_user("temp", is_staff=True))
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("url", [INSIGHTS, UNKNOWN])
def test_staff_with_view_permission_and_superuser_see_it(client, admin_client, support_user, url):
    client.force_login(support_user)
    assert client.get(url).status_code == 200
    assert admin_client.get(url).status_code == 200


def test_index_links_insights_only_for_those_who_may_see_them(client, admin_client, support_user):
    assert f'href="{INSIGHTS}"' in admin_client.get("/admin/").content.decode()
    client.force_login(support_user)
    assert f'href="{UNKNOWN}"' in client.get("/admin/").content.decode()
    client.force_login(User.objects.create_user("temp", is_staff=True))
    assert INSIGHTS not in client.get("/admin/").content.decode()


def test_page_shows_totals_hit_rate_percentiles_tokens_and_unknown_callers(admin_client, token):
    now = timezone.now()
    top_of_hour = timezone.localtime(now).replace(minute=0, second=0, microsecond=0)
    for d in range(1, 11):  # 10 lookups, durations 100..1000 ms, all in the current hour (one bar)
        outcome = "success" if d <= 6 else ("not_found" if d <= 8 else "unauthorized")
        at = now - (now - top_of_hour) * d / 10
        LookupEventFactory(created_at=at, outcome=outcome, duration_ms=d * 100.0, phone_number="+15550001111")
    response = admin_client.get(INSIGHTS)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<div class="value" id="total">10</div>' in html
    assert '<div class="value" id="hit-rate">75.0 %</div>' in html  # 6 / (6 + 2)
    assert '<div class="value" id="p50">500 ms</div>' in html
    assert '<div class="value" id="p95">1000 ms</div>' in html
    assert '<div class="value" id="p99">1000 ms</div>' in html
    assert '<span class="swatch bg-success"></span>Success: <strong>6</strong>' in html
    assert '<span class="swatch bg-unauthorized"></span>Unauthorized: <strong>2</strong>' in html
    assert html.count('<g class="bar"><title>') == 24
    assert "10 lookups (success 6, not found 2, no number 0, bad request 0, unauthorized 2)" in html
    seen = timezone.localtime(now - (now - top_of_hour) * 7 / 10).strftime("%b %-d, %H:%M")  # the later not_found
    assert worklist_row(1, "+15550001111", 2, 0, seen) in html  # unknown caller not found twice
    assert "<td>genesys-test</td>" in html
    assert [a.key for a in response.context["alerts"]] == []


def test_alerts_show_on_the_page(admin_client):
    LookupEventFactory(created_at=timezone.now() - timedelta(hours=2), duration_ms=1500.0)
    html = admin_client.get(INSIGHTS).content.decode()
    assert 'data-alert="slow"' in html and "Latency p99 is 1,500 ms" in html
    assert 'data-alert="silence"' in html


def test_window_selector(admin_client):
    LookupEventFactory(created_at=timezone.now() - timedelta(days=3))
    week = admin_client.get(INSIGHTS, {"window": "7d"})
    assert week.context["total"] == 1 and len(week.context["chart"]["bars"]) == 7
    assert admin_client.get(INSIGHTS, {"window": "30d"}).context["total"] == 1
    assert admin_client.get(INSIGHTS, {"window": "24h"}).context["total"] == 0
    assert admin_client.get(INSIGHTS, {"window": "bogus"}).context["window"].key == "24h"


def test_page_query_count_is_bounded(admin_client, token, django_assert_max_num_queries, django_assert_num_queries):
    now = timezone.now()
    LookupEventFactory.create_batch(30, created_at=now - timedelta(hours=1))
    LookupEventFactory.create_batch(30, created_at=now - timedelta(days=3), duration_ms=2.5)
    for n in range(25):
        LookupEventFactory(created_at=now - timedelta(hours=2), phone_number=f"+1555000{n:04d}")
    # The first view also rolls up the closed days: savepoint, days, 2 grouped reads and their 2 inserts, release.
    with django_assert_max_num_queries(18):
        first = admin_client.get(INSIGHTS, {"window": "30d"})
    # session, user, rollups, counts, duration histogram, the percentiles' values, unknown callers, tokens, alerts,
    # repeat callers, interactions per tier
    with django_assert_num_queries(11):
        again = admin_client.get(INSIGHTS, {"window": "30d"})
    assert len(again.context["unknown"]) == 20
    assert (again.context["total"], again.context["latency"]) == (first.context["total"], first.context["latency"])
    assert again.context["total"] == 85


def test_unknown_callers_page_paginates_and_links_the_prefilled_add_form(admin_client):
    now = timezone.now()
    for n in range(55):
        LookupEventFactory.create_batch(
            1 + (n == 0), created_at=now - timedelta(minutes=n), outcome="not_found", phone_number=f"+1555000{n:04d}"
        )
    CustomerPhoneFactory(number="+15550000054")
    page1 = admin_client.get(UNKNOWN)
    assert page1.context["page_obj"].paginator.count == 54
    rows = page1.context["rows"]
    assert len(rows) == 50 and rows[0]["phone_number"] == "+15550000000" and rows[0]["lookups"] == 2
    assert rows[0]["add_url"] == "/admin/crm/customer/add/?phone=%2B15550000000"
    page2 = admin_client.get(UNKNOWN, {"page": 2})
    assert [r["phone_number"] for r in page2.context["rows"]] == [f"+1555000{n:04d}" for n in range(50, 54)]
    # Ranks continue on page 2: each row's rank cell beside its number.
    ranked = re.findall(r'<tr>\s*<td class="num">(\d+)</td>\s*<td>([^<]+)</td>', page2.content.decode())
    assert ranked == [(str(n + 1), f"+1555000{n:04d}") for n in range(50, 54)]
    LookupEventFactory(created_at=now - timedelta(days=40), outcome="not_found", phone_number="+15559999999")
    assert admin_client.get(UNKNOWN, {"window": "all"}).context["page_obj"].paginator.count == 55


def test_worklist_shows_each_numbers_lookups_and_unmatched_calls(admin_client, alice):
    now = timezone.now().replace(second=0, microsecond=0)
    LookupEventFactory(created_at=now - timedelta(hours=3), outcome="not_found", phone_number="+15550001111")
    InteractionFactory(occurred_at=now - timedelta(hours=1), ani="+15550001111")
    InteractionFactory(occurred_at=now - timedelta(hours=2), ani="+15550002222")  # only ever an interaction
    InteractionFactory(occurred_at=now - timedelta(hours=2), ani="+15551234567", customer=alice)  # matched
    InteractionFactory(occurred_at=now - timedelta(hours=2), ani="")  # withheld

    def at(hours: int) -> str:
        return timezone.localtime(now - timedelta(hours=hours)).strftime("%b %-d, %H:%M")

    for url in (INSIGHTS, UNKNOWN):
        html = admin_client.get(url).content.decode()
        table = html[html.index("<tbody>", html.index('<table class="unknown-callers">')) :]
        table = table[: table.index("</tbody>")]
        rows = [worklist_row(1, "+15550001111", 1, 1, at(1)), worklist_row(2, "+15550002222", 0, 1, at(2))]
        assert table == "<tbody>\n  \n    " + "\n  \n    ".join(rows) + "\n  \n  ", url


def test_a_number_given_to_a_customer_leaves_the_worklist(admin_client, alice):
    InteractionFactory(ani="+15550002222")
    assert [r["phone_number"] for r in admin_client.get(UNKNOWN).context["rows"]] == ["+15550002222"]
    CustomerPhoneFactory(customer=alice, number="+15550002222")
    html = admin_client.get(UNKNOWN).content.decode()
    assert '<tr><td colspan="6">No unknown callers: every number looked up or heard was found.</td></tr>' in html


def test_worklist_query_count_does_not_grow_with_rows(admin_client, django_assert_num_queries):
    now = timezone.now()
    for n in range(60):
        LookupEventFactory(created_at=now - timedelta(minutes=n), outcome="not_found", phone_number=f"+1555000{n:04d}")
        InteractionFactory(occurred_at=now - timedelta(minutes=n), ani=f"+1555100{n:04d}")
    # session, user, the paginator's count of numbers, the page's rows
    with django_assert_num_queries(4):
        page = admin_client.get(UNKNOWN, {"window": "all"})
    assert page.context["page_obj"].paginator.count == 120 and len(page.context["rows"]) == 50


def test_add_form_has_the_phone_filled_in(admin_client):
    response = admin_client.get("/admin/crm/customer/add/", {"phone": "+15550001111"})
    assert response.status_code == 200
    assert 'name="phones-0-number" value="+15550001111"' in response.content.decode()


@pytest.mark.parametrize("phone", ["not-a-number", ""])
def test_add_form_ignores_a_phone_that_is_not_a_number(admin_client, phone):
    html = admin_client.get("/admin/crm/customer/add/", {"phone": phone}).content.decode()
    assert '<input type="text" name="phones-0-number" class="vTextField" maxlength="128"' in html  # no value


def test_seed_command_inserts_events_in_the_window():
    out = StringIO()
    call_command("seed_lookup_events", "--count", "120", "--days", "2", stdout=out)
    assert out.getvalue() == "Inserted 120 lookup events over the last 2 days.\n"
    assert LookupEvent.objects.count() == 120
    oldest = LookupEvent.objects.order_by("created_at").first().created_at
    assert timezone.now() - oldest <= timedelta(days=2)
    assert set(LookupEvent.objects.values_list("outcome", flat=True)) <= set(LookupEvent.Outcome.values)
    with pytest.raises(CommandError, match=r"^--count must be between 1 and 100000000 \(got 0\)\.$"):
        call_command("seed_lookup_events", "--count", "0")
