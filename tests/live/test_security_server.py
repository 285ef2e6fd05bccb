"""Over real HTTP with two gunicorn workers: the lockout holds across workers; 4xx log lines have no traceback."""

import re
from http.cookiejar import CookieJar
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, HTTPRedirectHandler, Request, build_opener

import pytest

from tests.processes import manage
from tests.servers import gunicorn, http

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]


class NoRedirects(HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """Cookies and CSRF token, as a browser keeps them; no redirects followed."""

    def __init__(self, url):
        self.url = url
        self.opener = build_opener(HTTPCookieProcessor(CookieJar()), NoRedirects())

    def request(self, path, data=None):
        body = urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(Request(self.url + path, data=body), timeout=10) as response:
                return response.status, response.read().decode()
        except HTTPError as error:
            return error.code, error.read().decode()

    def login(self, username, password):
        status, page = self.request("/admin/login/")
        if status != 200:
            return status, page  # locked: even the form is refused
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        form = {"csrfmiddlewaretoken": csrf, "username": username, "password": password, "next": "/admin/"}
        return self.request("/admin/login/", form)


@pytest.fixture(scope="module")
def static_root(tmp_path_factory) -> str:
    """collectstatic once: the admin's pages need the production manifest."""
    root = str(tmp_path_factory.mktemp("static"))
    result = manage("collectstatic", "--noinput", "-v0", env={"DJANGO_SECRET_KEY": "x", "DJANGO_STATIC_ROOT": root})
    assert result.returncode == 0, result.stderr
    return root


def test_lockout_across_workers_and_one_line_client_errors(django_user_model, tmp_path, static_root, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]  # as the server has them
    django_user_model.objects.create_superuser("admin", password="right-password-1")
    django_user_model.objects.create_user("sam", password="sam-password-1", is_staff=True)
    log_path = tmp_path / "server.log"
    with gunicorn(workers=2, log_path=log_path, env={"DJANGO_STATIC_ROOT": static_root}) as (url, _):
        sam = Browser(url)
        assert sam.login("sam", "sam-password-1")[0] == 302
        forbidden = sam.request("/admin/insights/")[0]
        missing = http("GET", f"{url}/no-such-page")[0]
        # (All from 127.0.0.1: these five lock the address as well as the username.)
        statuses = [Browser(url).login("admin", "wrong")[0] for _ in range(5)]  # new connection each: both workers
        status, page = Browser(url).login("admin", "right-password-1")
    assert statuses == [200, 200, 200, 200, 429]
    assert status == 429 and "Sign-in is locked after 5 failed attempts." in page
    assert (forbidden, missing) == (403, 404)
    text = log_path.read_text()
    assert "Traceback" not in text
    assert re.search(r"WARNING django.request Forbidden \(Permission denied\): /admin/insights/\n", text)
    assert re.search(r"WARNING django.request Not Found: /no-such-page\n", text)
    # Five wrong passwords, then the right one refused by the lockout: six failed sign-ins.
    assert text.count("event=login_failed username='admin'") == 6
    assert "event=login_locked_out username='admin' ip=127.0.0.1 path=/admin/login/" in text
    assert "event=login_succeeded username='sam' ip=127.0.0.1 path=/admin/login/" in text
    assert "right-password-1" not in text and "sam-password-1" not in text
