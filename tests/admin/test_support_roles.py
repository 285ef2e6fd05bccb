"""The "Support staff" group, create_support_user, and what support users can and cannot open."""

from http import HTTPStatus
from io import StringIO

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "correct-horse-battery-9"


def create_support_user(monkeypatch, username: str, *options: str) -> str:
    """Run create_support_user with GOOD_PASSWORD from the environment; what it printed."""
    monkeypatch.setenv("SUPPORT_PW", GOOD_PASSWORD)
    out = StringIO()
    call_command("create_support_user", username, *options, "--password-from-env", "SUPPORT_PW", stdout=out)
    return out.getvalue()


def group_permissions(name: str) -> list[tuple[str, str]]:
    group = Group.objects.get(name=name)
    return sorted(group.permissions.values_list("content_type__app_label", "codename"))


def test_group_has_exactly_the_support_permissions():
    assert group_permissions("Support staff") == [
        ("crm", "add_customer"),
        ("crm", "add_customerphone"),
        ("crm", "add_tier"),
        ("crm", "change_customer"),
        ("crm", "change_customerphone"),
        ("crm", "change_tier"),
        ("crm", "delete_customerphone"),
        ("crm", "view_customer"),
        ("crm", "view_customerphone"),
        ("crm", "view_interaction"),
        ("crm", "view_tier"),
        ("lookup", "view_lookupevent"),
    ]


def test_create_support_user_from_env(monkeypatch):
    assert create_support_user(monkeypatch, "sam") == "Created support user 'sam' (staff, group 'Support staff').\n"
    sam = User.objects.get(username="sam")
    assert (sam.is_staff, sam.is_superuser, sam.is_active) == (True, False, True)
    assert list(sam.groups.values_list("name", flat=True)) == ["Support staff"]
    assert sam.check_password(GOOD_PASSWORD)


def test_create_support_user_recreates_a_missing_group(monkeypatch):
    Group.objects.filter(name="Support staff").delete()
    create_support_user(monkeypatch, "sam")
    group = Group.objects.get(name="Support staff")
    assert group.permissions.count() == 12
    assert list(User.objects.get(username="sam").groups.all()) == [group]


def test_create_support_user_prompts_twice(monkeypatch):
    answers = iter([GOOD_PASSWORD, GOOD_PASSWORD])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    call_command("create_support_user", "sue", stdout=StringIO())
    assert User.objects.get(username="sue").check_password(GOOD_PASSWORD)


def test_mismatched_prompts_are_refused(monkeypatch):
    answers = iter([GOOD_PASSWORD, GOOD_PASSWORD + "x"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    with pytest.raises(CommandError, match="^The two passwords do not match.$"):
        call_command("create_support_user", "sue")
    assert not User.objects.filter(username="sue").exists()


def test_weak_password_lists_the_validators_messages(monkeypatch):
    monkeypatch.setenv("SUPPORT_PW", "12345")
    with pytest.raises(CommandError) as error:
        call_command("create_support_user", "sam", "--password-from-env", "SUPPORT_PW")
    assert str(error.value) == (
        "Password rejected: This password is too short. It must contain at least 8 characters. "
        "This password is too common. This password is entirely numeric."
    )
    assert not User.objects.filter(username="sam").exists()


def test_unset_env_variable_is_an_error(monkeypatch):
    monkeypatch.delenv("SUPPORT_PW", raising=False)
    with pytest.raises(CommandError, match="^Environment variable SUPPORT_PW is not set or empty.$"):
        call_command("create_support_user", "sam", "--password-from-env", "SUPPORT_PW")


def test_existing_user_is_an_error(monkeypatch, admin_user):
    monkeypatch.setenv("SUPPORT_PW", GOOD_PASSWORD)
    with pytest.raises(CommandError, match="^User 'admin' already exists.$"):
        call_command("create_support_user", "admin", "--password-from-env", "SUPPORT_PW")


@pytest.fixture
def support_client(client, monkeypatch):
    create_support_user(monkeypatch, "sam")
    client.force_login(User.objects.get(username="sam"))
    return client


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:crm_customer_changelist",
        "admin:crm_customer_add",
        "admin:crm_customer_import",
        "admin:crm_tier_changelist",
        "admin:crm_tier_add",
        "admin:lookup_lookupevent_changelist",
    ],
)
def test_support_user_can_open_customer_pages(support_client, alice, url_name):
    assert support_client.get(reverse(url_name)).status_code == HTTPStatus.OK


def test_support_user_can_open_a_customer(support_client, alice):
    assert support_client.get(reverse("admin:crm_customer_change", args=[alice.pk])).status_code == HTTPStatus.OK


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:lookup_apitoken_changelist",
        "admin:lookup_apitoken_add",
        "admin:auth_user_changelist",
        "admin:auth_user_add",
        "admin:auth_group_changelist",
        "admin:lookup_lookupevent_add",
        "admin:crm_customer_delete",
    ],
)
def test_support_user_gets_403_on_admin_only_pages(support_client, alice, url_name):
    args = [alice.pk] if url_name.endswith("_delete") else []
    response = support_client.get(reverse(url_name, args=args))
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "<h1>Access denied</h1>" in response.content.decode()


def test_support_user_index_lists_only_their_models(support_client):
    response = support_client.get(reverse("admin:index"))
    models = [(app["app_label"], m["object_name"]) for app in response.context["app_list"] for m in app["models"]]
    assert sorted(models) == [("crm", "Customer"), ("crm", "Interaction"), ("crm", "Tier"), ("lookup", "LookupEvent")]
    page = response.content.decode()
    assert "API tokens" not in page and "Users" not in page and "Groups" not in page


# -- the lead: support staff who also read the edit history ------------------------------


def test_lead_group_has_exactly_the_history_permissions():
    assert group_permissions("Support leads") == [
        ("crm", "view_historicalcustomer"),
        ("crm", "view_historicalcustomerphone"),
        ("crm", "view_historicaltier"),
    ]


def test_create_support_user_lead_joins_both_groups(monkeypatch):
    printed = create_support_user(monkeypatch, "lee", "--lead")
    assert printed == "Created support user 'lee' (staff, groups 'Support staff', 'Support leads').\n"
    lee = User.objects.get(username="lee")
    assert sorted(lee.groups.values_list("name", flat=True)) == ["Support leads", "Support staff"]
    assert (lee.is_staff, lee.is_superuser) == (True, False)


@pytest.fixture
def lead_client(client, monkeypatch):
    create_support_user(monkeypatch, "lee", "--lead")
    client.force_login(User.objects.get(username="lee"))
    return client


def test_lead_reads_the_edit_history_support_staff_do_not(lead_client, alice, monkeypatch):
    customer_page = reverse("admin:crm_customer_change", args=[alice.pk])
    tier_history = reverse("admin:crm_tier_history", args=[alice.tier_id])
    lead_page = lead_client.get(customer_page)
    assert (lead_page.status_code, lead_page.context["show_edit_history"]) == (HTTPStatus.OK, True)
    assert "<h2>Edit history</h2>" in lead_page.content.decode()
    assert lead_client.get(tier_history).status_code == HTTPStatus.OK
    create_support_user(monkeypatch, "sam")
    support_client = Client()
    support_client.force_login(User.objects.get(username="sam"))
    staff_page = support_client.get(customer_page)
    assert staff_page.status_code == HTTPStatus.OK
    assert "Edit history" not in staff_page.content.decode()
    assert support_client.get(tier_history).status_code == HTTPStatus.FORBIDDEN
