"""Lookup tokens: digests only, revocation, last use, commands and admin."""

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from lookup.models import ApiToken, token_digest
from lookup.services import TokenError, token_create

pytestmark = pytest.mark.django_db


def all_token_columns() -> str:
    """Every value of every row of the token table, as text."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {ApiToken._meta.db_table}")
        return repr(cursor.fetchall())


def test_tokens_are_random_and_stored_only_as_digests():
    _, first = token_create(name="a")
    _, second = token_create(name="b")
    assert first != second and len(first) >= 40
    stored = all_token_columns()
    assert first not in stored and second not in stored
    assert token_digest(first) in stored


def test_create_command_prints_raw_token_last_and_stores_digest():
    out, err = StringIO(), StringIO()
    call_command("create_lookup_token", "genesys-prod", stdout=out, stderr=err)
    raw = out.getvalue().splitlines()[-1]
    assert ApiToken.objects.get(name="genesys-prod").digest == token_digest(raw)
    assert raw not in all_token_columns()
    assert "cannot be shown again" in err.getvalue()


def test_create_command_with_given_value():
    out = StringIO()
    call_command("create_lookup_token", "moved", token="the-old-shared-secret-value", stdout=out, stderr=StringIO())
    assert out.getvalue().splitlines()[-1] == "the-old-shared-secret-value"
    assert ApiToken.objects.get(name="moved").digest == token_digest("the-old-shared-secret-value")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"token": "short"}, "A token must be at least 20 characters without spaces."),
        ({"token": "has a space in the middle of it"}, "A token must be at least 20 characters without spaces."),
    ],
)
def test_create_command_rejects_weak_values(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_lookup_token", "x", stdout=StringIO(), stderr=StringIO(), **args)


def test_create_command_rejects_duplicate_name():
    token_create(name="dup")
    with pytest.raises(CommandError, match="An active token named 'dup' already exists"):
        call_command("create_lookup_token", "dup", stdout=StringIO(), stderr=StringIO())


def test_duplicate_value_is_refused():
    token_create(name="one", raw="same-value-for-both-tokens")
    with pytest.raises(TokenError, match="already in use"):
        token_create(name="two", raw="same-value-for-both-tokens")


def test_blank_name_is_refused():
    with pytest.raises(TokenError, match="needs a name"):
        token_create(name="  ")


def test_revoke_command(anon_api, alice):
    _, raw = token_create(name="to-revoke")
    out = StringIO()
    call_command("revoke_lookup_token", "to-revoke", stdout=out)
    assert out.getvalue() == "Revoked token 'to-revoke'.\n"
    anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert anon_api.post("/api/customer/lookup", {"phoneNumber": "+15551234567"}, format="json").status_code == 401
    again = StringIO()
    call_command("revoke_lookup_token", "to-revoke", stdout=again)
    assert again.getvalue().startswith("Token 'to-revoke' was already revoked at ")


def test_revoke_unknown_token_is_command_error():
    with pytest.raises(CommandError, match="No token named 'ghost'."):
        call_command("revoke_lookup_token", "ghost")


def test_last_used_written_at_most_once_a_minute(api, alice):
    token = ApiToken.objects.get(name="genesys-test")
    assert token.last_used_at is None
    api.post("/api/customer/lookup", {"phoneNumber": "+15551234567"}, format="json")
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    api.post("/api/customer/lookup", {"phoneNumber": "+15551234567"}, format="json")
    token.refresh_from_db()
    assert token.last_used_at == first
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(seconds=61))
    api.post("/api/customer/lookup", {"phoneNumber": "+15551234567"}, format="json")
    token.refresh_from_db()
    assert token.last_used_at > first


def test_ensure_lookup_token_creates_once_and_reprints(tmp_path, anon_api, alice):
    path = tmp_path / "token"
    out = StringIO()
    call_command("ensure_lookup_token", "demo", token_file=str(path), stdout=out)
    raw = path.read_text().strip()
    assert out.getvalue() == f"Lookup token (demo): {raw}\n"
    again = StringIO()
    call_command("ensure_lookup_token", "demo", token_file=str(path), stdout=again)
    assert again.getvalue() == out.getvalue()
    anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert anon_api.post("/api/customer/lookup", {"phoneNumber": "+15551234567"}, format="json").status_code == 200


def test_ensure_lookup_token_replaces_a_revoked_one(tmp_path):
    path = tmp_path / "token"
    call_command("ensure_lookup_token", "demo", token_file=str(path), stdout=StringIO())
    old = path.read_text().strip()
    ApiToken.objects.get(name="demo").revoke()
    call_command("ensure_lookup_token", "demo", token_file=str(path), stdout=StringIO())
    new = path.read_text().strip()
    assert new != old
    assert ApiToken.objects.active().get(name="demo").digest == token_digest(new)


def test_admin_creates_token_and_shows_it_once(admin_client):
    response = admin_client.post(reverse("admin:lookup_apitoken_add"), {"name": "genesys-prod"}, follow=True)
    assert response.status_code == 200
    message = [str(m) for m in response.context["messages"]][0]
    raw = message.split("<code>")[1].split("</code>")[0]
    assert ApiToken.objects.get(name="genesys-prod").digest == token_digest(raw)
    change = admin_client.get(reverse("admin:lookup_apitoken_change", args=[ApiToken.objects.get().pk]))
    assert raw not in change.content.decode()
    assert token_digest(raw) not in change.content.decode()


def test_admin_creates_tokens_through_the_service(admin_client, monkeypatch):
    made = []

    def spy(**kwargs):
        made.append(kwargs)
        return token_create(**kwargs)

    monkeypatch.setattr("lookup.admin.token_create", spy)
    response = admin_client.post(reverse("admin:lookup_apitoken_add"), {"name": "genesys-prod"})
    assert (response.status_code, response["Location"]) == (302, reverse("admin:lookup_apitoken_changelist"))
    assert made == [{"name": "genesys-prod"}]
    assert list(ApiToken.objects.values_list("name", flat=True)) == ["genesys-prod"]


def test_admin_duplicate_token_name_is_form_error(admin_client):
    token_create(name="genesys-prod")
    response = admin_client.post(reverse("admin:lookup_apitoken_add"), {"name": "genesys-prod"})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "name": ["An active token with this name already exists; revoke it or pick another name."]
    }


def test_admin_revoke_action(admin_client):
    token, _ = token_create(name="old")
    response = admin_client.post(
        reverse("admin:lookup_apitoken_changelist"),
        {"action": "revoke_tokens", "_selected_action": [token.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == [
        "Revoked 1 token(s). They are refused from the next request on."
    ]
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert timezone.now() - token.revoked_at < timedelta(minutes=1)
    changelist = admin_client.get(reverse("admin:lookup_apitoken_changelist")).content.decode()
    # The row's own status cell, not the word in the "By revoked at" filter heading.
    assert re.findall(r'<td class="field-status">(\w+)</td>', changelist) == ["revoked"]


def test_active_by_digest_loads_name_and_last_use():
    token, raw = token_create(name="fast")
    assert ApiToken.objects.active_by_digest(token_digest(raw)).name == "fast"
    now = timezone.now()
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    found = ApiToken.objects.active_by_digest(token_digest(raw))
    assert (found.pk, found.name, found.last_used_at) == (token.pk, "fast", now)
    token.revoke()
    assert ApiToken.objects.active_by_digest(token_digest(raw)) is None
    assert ApiToken.objects.active_by_digest(token_digest("never-issued")) is None


def test_tokens_never_reach_the_logs(api, anon_api, alice, token, caplog):
    caplog.set_level("DEBUG")
    api.post("/api/customer/lookup", {"phoneNumber": "+15551234567"}, format="json")
    anon_api.credentials(HTTP_AUTHORIZATION="Bearer a-wrong-token-that-must-not-be-logged")
    anon_api.post("/api/customer/lookup", {"phoneNumber": "+15551234567"}, format="json")
    anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer  {token}")  # malformed, still a secret
    anon_api.post("/api/customer/lookup", {"phoneNumber": "+15551234567"}, format="json")
    assert "lookup authentication failed" in caplog.text
    assert token not in caplog.text
    assert "a-wrong-token-that-must-not-be-logged" not in caplog.text
