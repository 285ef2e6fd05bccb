"""Browser security in-process: the CSP header, session lifetimes, file modes, one-line 4xx logs."""

import logging
import os
import stat
import sys
import time
from http import HTTPStatus
from io import StringIO

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage

from security.logfilters import OneLineClientErrors
from security.middleware import LAST_SEEN_KEY
from tests.processes import manage

pytestmark = pytest.mark.django_db

CSP = {
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
}


def policy(response) -> set[str]:
    """The directives of the response's policy (django-csp does not keep their order)."""
    return set(response["Content-Security-Policy"].split("; "))


@pytest.mark.parametrize(
    "url", ["/admin/", "/admin/crm/customer/", "/admin/insights/", "/admin/two-factor/", "/api/docs/"]
)
def test_every_page_has_the_policy(admin_client, url):
    response = admin_client.get(url)
    assert response.status_code == HTTPStatus.OK
    assert policy(response) == CSP


@pytest.mark.parametrize(("url", "status"), [("/admin/login/", 200), ("/admin/no-such-page/", 302), ("/nope", 404)])
def test_anonymous_pages_have_the_policy(client, url, status):
    response = client.get(url)
    assert response.status_code == status
    assert policy(response) == CSP


def test_lookup_api_skips_the_header(api, alice):
    response = api.post("/api/customer/lookup", {"phoneNumber": "+15551234567"}, format="json")
    assert response.status_code == HTTPStatus.OK
    assert "Content-Security-Policy" not in response


def test_swagger_ui_start_up_script_is_a_file(client):
    page = client.get("/api/docs/").content.decode()
    assert '<script src="/api/docs/?script="></script>' in page
    assert "<style" not in page and "<script>" not in page
    script = client.get("/api/docs/?script=")
    assert (script.status_code, script["Content-Type"]) == (200, "application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()


# -- sessions -------------------------------------------------------------------------


def test_session_defaults():
    assert (settings.SESSION_COOKIE_AGE, settings.SESSION_IDLE_SECONDS) == (12 * 3600, 1800)
    assert settings.SESSION_COOKIE_HTTPONLY is True
    assert settings.MESSAGE_STORAGE == "django.contrib.messages.storage.session.SessionStorage"


def test_session_lifetimes_come_from_the_environment():
    code = "from django.conf import settings as s; print(s.SESSION_COOKIE_AGE, s.SESSION_IDLE_SECONDS)"
    env = {"DJANGO_SECRET_KEY": "x", "DJANGO_SESSION_COOKIE_AGE": "3600", "DJANGO_SESSION_IDLE_SECONDS": "600"}
    assert manage("shell", "-v0", "-c", code, env=env).stdout == "3600 600\n"


def idle(client, seconds: int) -> None:
    session = client.session
    session[LAST_SEEN_KEY] = int(time.time()) - seconds
    session.save()


def test_idle_session_is_signed_out(admin_client):
    idle(admin_client, 1801)
    response = admin_client.get("/admin/crm/customer/")
    assert (response.status_code, response["Location"]) == (302, "/admin/login/?next=/admin/crm/customer/")
    assert admin_client.get("/admin/").status_code == 302  # signed out for good, not just once


def test_active_session_stays_and_its_clock_moves(admin_client):
    idle(admin_client, 1799)
    assert admin_client.get("/admin/crm/customer/").status_code == 200
    assert int(time.time()) - admin_client.session[LAST_SEEN_KEY] <= 1


def test_idle_clock_is_written_at_most_once_a_minute(admin_client):
    idle(admin_client, 30)
    before = admin_client.session[LAST_SEEN_KEY]
    admin_client.get("/admin/")
    assert admin_client.session[LAST_SEEN_KEY] == before


# -- file modes -------------------------------------------------------------------------


def mode(path) -> str:
    return oct(stat.S_IMODE(os.stat(path).st_mode))


SHOW_MODES = (
    "from django.db import connection; from lookup.models import ApiToken; import os, stat; "
    "ApiToken.objects.count(); "
    "n = connection.settings_dict['NAME']; "
    "print(*[oct(stat.S_IMODE(os.stat(p).st_mode)) for p in (n, n + '-wal', n + '-shm')])"
)


def test_new_sqlite_database_and_its_wal_files_are_0600(tmp_path):
    env = {"DJANGO_SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    assert manage("migrate", "-v0", env=env).returncode == 0
    assert mode(tmp_path / "db.sqlite3") == "0o600"
    assert manage("shell", "-v0", "-c", SHOW_MODES, env=env).stdout == "0o600 0o600 0o600\n"


def test_an_old_world_readable_database_is_made_0600(tmp_path):
    env = {"DJANGO_SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    manage("migrate", "-v0", env=env)
    os.chmod(tmp_path / "db.sqlite3", 0o644)
    assert manage("shell", "-v0", "-c", SHOW_MODES, env=env).stdout == "0o600 0o600 0o600\n"


def test_process_umask_is_077():
    code = "import os; m = os.umask(0); print(oct(m))"
    assert manage("shell", "-v0", "-c", code, env={"DJANGO_SECRET_KEY": "x"}).stdout == "0o77\n"


def test_saved_media_files_are_0600_in_0700_folders(tmp_path):
    storage = FileSystemStorage(location=tmp_path / "media")
    name = storage.save("jobs/2026/import.csv", ContentFile(b"customer_id\n"))
    assert mode(storage.path(name)) == "0o600"
    assert mode(tmp_path / "media" / "jobs") == "0o700"
    assert mode(tmp_path / "media" / "jobs" / "2026") == "0o700"


# -- one-line 4xx logs -----------------------------------------------------------------------


def test_console_handler_has_the_one_line_filter():
    assert settings.LOGGING["handlers"]["console"]["filters"] == ["one_line_4xx"]
    assert settings.LOGGING["filters"]["one_line_4xx"] == {"()": "security.logfilters.OneLineClientErrors"}


def format_like_the_console(records) -> str:
    stream = StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    handler.addFilter(OneLineClientErrors())
    for record in records:
        handler.handle(record)
    return stream.getvalue()


def test_forbidden_and_not_found_are_one_line_each(client, django_user_model, caplog):
    client.force_login(django_user_model.objects.create_user("sam", is_staff=True))  # no insights permission
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get("/admin/insights/").status_code == 403
        assert client.get("/admin/no-such-page/").status_code == 404
    records = [r for r in caplog.records if r.name == "django.request"]
    # Django attached the PermissionDenied to the 403's record; the configured console handler
    # (which sees each record first) has dropped it, so no handler prints a traceback.
    assert [(r.getMessage(), r.status_code, r.exc_info) for r in records] == [
        ("Forbidden (Permission denied): /admin/insights/", 403, None),
        ("Not Found: /admin/no-such-page/", 404, None),
    ]
    assert "Traceback" not in caplog.text


def request_record(level: int, message: str, status_code: int, error: Exception) -> logging.LogRecord:
    """A django.request record as Django logs it: the message, the status and the exception raised."""
    try:
        raise error
    except type(error):
        record = logging.LogRecord("django.request", level, __file__, 1, message, (), None)
        record.exc_info = sys.exc_info()
    record.status_code = status_code
    return record


def test_the_filter_drops_a_client_errors_traceback():
    record = request_record(logging.WARNING, "Forbidden: /x", 403, PermissionError("denied"))
    assert format_like_the_console([record]) == "WARNING django.request Forbidden: /x\n"


def test_a_server_error_keeps_its_traceback():
    record = request_record(logging.ERROR, "Internal Server Error: /x", 500, RuntimeError("boom"))
    text = format_like_the_console([record])
    assert text.startswith("ERROR django.request Internal Server Error: /x\nTraceback (most recent call last):")
    assert text.rstrip().endswith("RuntimeError: boom")
