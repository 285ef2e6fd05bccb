"""Lookup tokens: a name is reusable after a revoke (history kept), and no token value in a cookie."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from lookup.models import ApiToken, LookupEvent, token_digest
from lookup.services import token_create

pytestmark = pytest.mark.django_db


# -- a name is reusable after a revoke; the revoked token stays as history ----------------


def test_name_is_reusable_after_revoke_and_history_stays(anon_api, alice):
    old, old_raw = token_create(name="genesys-prod")
    anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {old_raw}")
    anon_api.post("/api/customer/lookup", {"phoneNumber": "+15551234567"}, format="json")
    call_command("revoke_lookup_token", "genesys-prod", stdout=StringIO())
    out = StringIO()
    call_command("create_lookup_token", "genesys-prod", stdout=out, stderr=StringIO())
    new_raw = out.getvalue().strip()
    tokens = list(ApiToken.objects.filter(name="genesys-prod").order_by("created_at"))
    assert [(t.pk == old.pk, t.is_active) for t in tokens] == [(True, False), (False, True)]
    assert tokens[1].digest == token_digest(new_raw)
    # The audit rows of the old token keep its name; the old value stays refused.
    assert list(LookupEvent.objects.values_list("token_name", "outcome")) == [("genesys-prod", "success")]
    assert anon_api.post("/api/customer/lookup", {"phoneNumber": "+15551234567"}, format="json").status_code == 401
    # revoke acts on the active one; a second revoke reports the latest revoke.
    call_command("revoke_lookup_token", "genesys-prod", stdout=StringIO())
    assert ApiToken.objects.active().filter(name="genesys-prod").count() == 0
    again = StringIO()
    call_command("revoke_lookup_token", "genesys-prod", stdout=again)
    assert again.getvalue().startswith("Token 'genesys-prod' was already revoked at ")


def test_two_active_tokens_with_one_name_are_refused_by_the_database():
    from django.db import IntegrityError, transaction

    token_create(name="genesys-prod")
    duplicate = ApiToken(name="genesys-prod")
    duplicate.set_raw("another-raw-value-of-the-test")
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


def test_admin_reuses_the_name_of_a_revoked_token(admin_client):
    token, _ = token_create(name="genesys-prod")
    token.revoke()
    response = admin_client.post(reverse("admin:lookup_apitoken_add"), {"name": "genesys-prod"})
    assert response.status_code == 302
    assert sorted((t.name, t.is_active) for t in ApiToken.objects.all()) == [
        ("genesys-prod", False),
        ("genesys-prod", True),
    ]


def test_ensure_lookup_token_revokes_a_token_whose_file_is_gone(tmp_path):
    path = tmp_path / "token"
    call_command("ensure_lookup_token", "demo", token_file=str(path), stdout=StringIO())
    path.unlink()
    call_command("ensure_lookup_token", "demo", token_file=str(path), stdout=StringIO())
    assert sorted(t.is_active for t in ApiToken.objects.filter(name="demo")) == [False, True]
    assert ApiToken.objects.active().get(name="demo").digest == token_digest(path.read_text().strip())


# -- no secret in a cookie ------------------------------------------------------------------


def decoded_cookies(response) -> list[str]:
    """Every Set-Cookie value of a response, decoded as far as Django's signing encodes it."""
    import base64
    import zlib
    from urllib.parse import unquote

    values = []
    for morsel in response.cookies.values():
        value = unquote(morsel.value)
        values.append(value)
        for part in value.replace(":", " ").split():
            compressed = part.startswith(".")
            part = part.lstrip(".")
            try:
                data = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
                values.append((zlib.decompress(data) if compressed else data).decode("utf-8", "replace"))
            except (ValueError, zlib.error):
                pass
    return values


def test_token_creation_flow_sets_no_cookie_holding_the_token(client, admin_user):
    responses = [client.get("/admin/login/")]
    responses.append(client.post("/admin/login/", {"username": "admin", "password": "password", "next": "/admin/"}))
    responses.append(client.get(reverse("admin:lookup_apitoken_add")))
    responses.append(client.post(reverse("admin:lookup_apitoken_add"), {"name": "genesys-prod"}))
    assert responses[-1].status_code == 302
    shown = client.get(responses[-1]["Location"])
    responses.append(shown)
    page = shown.content.decode()
    raw = page.split("it will not be shown again: <code>")[1].split("</code>")[0]
    assert ApiToken.objects.get(name="genesys-prod").digest == token_digest(raw)
    responses.append(client.get(reverse("admin:lookup_apitoken_changelist")))  # the message is gone now
    assert raw not in responses[-1].content.decode()
    cookies = [value for response in responses for value in decoded_cookies(response)]
    assert cookies  # the session and CSRF cookies were decoded
    assert all(raw not in value for value in cookies)
    assert all("messages" not in response.cookies for response in responses)
