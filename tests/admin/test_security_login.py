"""Admin sign-in: lockout per username and per address (django-axes), its page, unlock, and login logs."""

import logging
from datetime import timedelta
from http import HTTPStatus

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.utils import timezone

from tests.processes import manage

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"


def attempt(client, username="admin", password="wrong", **meta):
    return client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"}, **meta)


def fail(client, times, **kwargs):
    for _ in range(times):
        response = attempt(client, **kwargs)
        assert response.status_code == HTTPStatus.OK  # the form again, with its error


def lock(client, **kwargs):
    """Five failures: four answer with the form, the fifth with the lockout page."""
    fail(client, 4, **kwargs)
    assert attempt(client, **kwargs).status_code == HTTPStatus.TOO_MANY_REQUESTS


def assert_locked(response, until_after):
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    body = response.content.decode()
    until = timezone.localtime(AccessAttempt.objects.latest("attempt_time").attempt_time + timedelta(minutes=15))
    assert until >= until_after + timedelta(minutes=15) - timedelta(seconds=5)
    assert "Sign-in is locked after 5 failed attempts." in body
    assert f'Try again at <strong id="locked-until">{until:%H:%M}</strong> ({until:%Y-%m-%d}, UTC)' in body
    assert int(response["Retry-After"]) in range(15 * 60 - 5, 15 * 60 + 1)


def test_right_password_is_refused_after_five_failures(client, admin_user):
    started = timezone.localtime()
    fail(client, 4)
    assert attempt(client, password="password").status_code == HTTPStatus.FOUND  # 4 failures: still allowed
    client.logout()
    assert_locked(attempt(client), started)  # the 5th failure locks (a success does not reset the count)
    assert_locked(attempt(client, password="password"), started)
    assert not client.session.get("_auth_user_id")


def test_fifth_failure_itself_answers_with_the_lockout_page(client, admin_user):
    fail(client, 4)
    assert_locked(attempt(client), timezone.localtime())


def test_one_username_is_locked_from_any_address(client, admin_user):
    for n in range(5):
        attempt(client, REMOTE_ADDR=f"203.0.113.{n}")
    assert attempt(client, password="password", REMOTE_ADDR="198.51.100.7").status_code == 429


def test_one_address_is_locked_for_every_username(client, admin_user):
    for n in range(5):
        attempt(client, username=f"guess{n}", REMOTE_ADDR="203.0.113.9")
    assert attempt(client, password="password", REMOTE_ADDR="203.0.113.9").status_code == 429
    # The username itself is not locked: from elsewhere it signs in.
    assert attempt(client, password="password", REMOTE_ADDR="198.51.100.7").status_code == 302


def test_lockout_ends_after_the_cool_off(client, admin_user):
    lock(client)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=15, seconds=1))
    assert attempt(client, password="password").status_code == HTTPStatus.FOUND


@pytest.mark.parametrize(
    ("trusted", "forwarded", "recorded", "locked", "free"),
    [
        # Without the switch the header is ignored: every attempt counts against the client's own address.
        (False, "203.0.113.{n}", "127.0.0.1", {"HTTP_X_FORWARDED_FOR": "198.51.100.7"}, {"REMOTE_ADDR": "198.51.100.7"}),
        # A client may send its own X-Forwarded-For; the proxy appends the real address last.
        (True, "10.9.9.{n}, 203.0.113.50", "203.0.113.50", {"HTTP_X_FORWARDED_FOR": "203.0.113.50"},
         {"HTTP_X_FORWARDED_FOR": "203.0.113.50, 198.51.100.7"}),
    ],
    ids=["ignored-without-the-proxy-switch", "behind-the-proxy-the-address-it-appended-counts"],
)  # fmt: skip
def test_forwarded_for_locks_the_address_that_counts(
    client, admin_user, settings, trusted, forwarded, recorded, locked, free
):
    settings.SECURITY_TRUST_X_FORWARDED_FOR = trusted
    for n in range(5):
        attempt(client, username=f"guess{n}", HTTP_X_FORWARDED_FOR=forwarded.format(n=n))
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {recorded}
    assert attempt(client, password="password", **locked).status_code == 429
    assert attempt(client, password="password", **free).status_code == 302


def test_unlock_by_command(client, admin_user):
    lock(client)
    call_command("axes_reset_username", "admin")
    call_command("axes_reset_ip", "127.0.0.1")
    assert attempt(client, password="password").status_code == HTTPStatus.FOUND


def test_unlock_in_the_admin(client, admin_user, django_user_model):
    lock(client)
    # Another superuser deletes the access attempts in the admin.
    django_user_model.objects.create_superuser("lead", password="lead-password")
    from django.test import Client

    lead = Client()
    lead.force_login(django_user_model.objects.get(username="lead"))
    changelist = "/admin/axes/accessattempt/"
    assert lead.get(changelist).status_code == HTTPStatus.OK
    ids = [str(pk) for pk in AccessAttempt.objects.values_list("pk", flat=True)]
    response = lead.post(changelist, {"action": "delete_selected", "_selected_action": ids, "post": "yes"})
    assert response.status_code == HTTPStatus.FOUND
    assert AccessAttempt.objects.count() == 0
    assert attempt(client, password="password").status_code == HTTPStatus.FOUND


def test_sign_in_events_are_one_structured_line_each_without_the_password(client, admin_user, caplog):
    caplog.set_level(logging.INFO, logger="security.auth")
    attempt(client, password="Secret-Guess-1")
    attempt(client, password="password")
    client.post("/admin/logout/")
    lock(client, username="bob", password="Secret-Guess-2", REMOTE_ADDR="203.0.113.5")
    lines = [r.getMessage() for r in caplog.records if r.name == "security.auth"]
    assert lines == [
        "event=login_failed username='admin' ip=127.0.0.1 path=/admin/login/",
        "event=login_succeeded username='admin' ip=127.0.0.1 path=/admin/login/",
        "event=logout username='admin' ip=127.0.0.1 path=/admin/logout/",
        *["event=login_failed username='bob' ip=203.0.113.5 path=/admin/login/"] * 4,
        "event=login_locked_out username='bob' ip=203.0.113.5 path=/admin/login/",
        "event=login_failed username='bob' ip=203.0.113.5 path=/admin/login/",
    ]
    assert "Secret-Guess" not in caplog.text
    assert all("Secret-Guess" not in (a.post_data or "") for a in AccessAttempt.objects.all())


def test_limits_come_from_the_environment():
    code = "from django.conf import settings as s; print(s.AXES_FAILURE_LIMIT, s.AXES_COOLOFF_TIME)"
    env = {"DJANGO_SECRET_KEY": "x", "AXES_FAILURE_LIMIT": "3", "AXES_COOLOFF_MINUTES": "60"}
    assert manage("shell", "-v0", "-c", code, env=env).stdout == "3 1:00:00\n"
    assert manage("shell", "-v0", "-c", code, env={"DJANGO_SECRET_KEY": "x"}).stdout == "5 0:15:00\n"
