"""Settings, demo fixture and the make-run commands."""

import subprocess
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from crm.models import Customer, CustomerPhone, Tier
from tests.processes import manage
from tests.servers import ROOT

SHOW_DEBUG = "from django.conf import settings; print(settings.DEBUG)"


def run_settings(**env) -> subprocess.CompletedProcess:
    """Start manage.py with the real settings and only the given environment; it prints DEBUG."""
    return manage("shell", "-v0", "-c", SHOW_DEBUG, env=env)


def test_settings_refuse_to_start_without_secret_key():
    result = run_settings()
    assert result.returncode == 1
    assert "ImproperlyConfigured: DJANGO_SECRET_KEY is not set." in result.stderr


def test_settings_refuse_the_placeholder_secret_key_of_env_example():
    result = run_settings(DJANGO_SECRET_KEY="change-me-to-a-long-random-string")
    assert result.returncode == 1
    assert "ImproperlyConfigured: DJANGO_SECRET_KEY is still the placeholder from .env.example." in result.stderr


def test_env_example_works_when_copied(tmp_path):
    env_file = tmp_path / ".env"
    text = (ROOT / ".env.example").read_text().replace("change-me-to-a-long-random-string", "k" * 50)
    env_file.write_text(text)
    result = run_settings(DJANGO_ENV_FILE=str(env_file))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_settings_start_with_secret_key_and_debug_off_by_default():
    result = run_settings(DJANGO_SECRET_KEY="s" * 50)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_settings_allow_missing_key_only_in_debug():
    result = run_settings(DJANGO_DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


@pytest.mark.django_db
def test_loaddata_demo_on_empty_and_seeded_database():
    for _ in range(2):
        call_command("loaddata", "demo", verbosity=0)
        assert list(
            Customer.objects.order_by("customer_id").values_list(
                "customer_id", "first_name", "last_name", "tier__name", "phones__number"
            )
        ) == [
            ("CUST-001", "Alice", "Smith", "Gold", "+15551234567"),
            ("CUST-002", "Bob", "Jones", "Silver", "+15559876543"),
        ]
        assert Tier.objects.count() == 2
        assert CustomerPhone.objects.count() == 2


@pytest.mark.django_db
def test_ensure_admin_creates_superuser_once_and_prints_login(tmp_path):
    password_file = tmp_path / "pw"
    out = StringIO()
    call_command("ensure_admin", "admin", password_file=str(password_file), stdout=out)
    password = password_file.read_text().strip()
    assert out.getvalue() == f"Admin login: admin / {password}\n"
    assert len(password) >= 16
    user = get_user_model().objects.get(username="admin")
    assert user.is_superuser and user.check_password(password)

    again = StringIO()
    call_command("ensure_admin", "admin", password_file=str(password_file), stdout=again)
    assert again.getvalue() == f"Admin login: admin / {password}\n"
    assert get_user_model().objects.count() == 1


@pytest.mark.django_db
def test_ensure_admin_does_not_print_a_changed_password(tmp_path):
    password_file = tmp_path / "pw"
    call_command("ensure_admin", "admin", password_file=str(password_file), stdout=StringIO())
    user = get_user_model().objects.get(username="admin")
    user.set_password("a-new-password-1")
    user.save()
    out = StringIO()
    call_command("ensure_admin", "admin", password_file=str(password_file), stdout=out)
    assert out.getvalue() == (
        "Admin login: admin (password changed since it was generated; "
        "reset it with `.venv/bin/python manage.py changepassword admin`)\n"
    )


@pytest.mark.django_db
def test_ensure_admin_refuses_non_superuser():
    get_user_model().objects.create_user(username="admin", password="x")
    with pytest.raises(CommandError, match="exists but is not an active superuser"):
        call_command("ensure_admin", "admin", stdout=StringIO())
