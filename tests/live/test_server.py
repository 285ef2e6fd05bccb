"""The lookup over real HTTP, served by gunicorn with the production config."""

import time

import pytest

from lookup.models import LookupEvent
from tests.contract import ALICE_BODY, NOT_FOUND_BODY, UNAUTHORIZED_BODY
from tests.processes import manage
from tests.servers import gunicorn, http, lookup

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def server(alice, token):
    with gunicorn(workers=2) as (url, _):
        yield url, token


def test_found_over_http(server):
    status, headers, body = lookup(*server, "tel:+15551234567")
    assert (status, body) == (200, ALICE_BODY)
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Length"] == str(len(ALICE_BODY))  # not chunked


def test_not_found_over_http(server):
    assert lookup(*server, "+15550000000")[::2] == (200, NOT_FOUND_BODY)


def test_unauthorized_over_http(server):
    status, headers, body = lookup(*server, "+15551234567", auth="Bearer wrong-token-00000000000000")
    assert (status, body) == (401, UNAUTHORIZED_BODY)
    assert headers["WWW-Authenticate"] == "Bearer"


def test_get_over_http_and_audit_written_by_server(server):
    url, token = server
    status, _, body = http(
        "GET", f"{url}/api/customer/lookup?phoneNumber=%28555%29+123-4567", headers={"Authorization": f"Bearer {token}"}
    )
    assert (status, body) == (200, ALICE_BODY)
    # The worker writes its audit rows in batches, at most LOOKUP_AUDIT_FLUSH_MS (100) later.
    deadline = time.monotonic() + 3
    while not LookupEvent.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert list(LookupEvent.objects.values_list("outcome", "phone_number")) == [("success", "+15551234567")]


def test_admin_css_is_served_with_debug_off(db, tmp_path):
    static = {"DJANGO_STATIC_ROOT": str(tmp_path / "static")}
    manage("collectstatic", "--noinput", "-v0", env={"DJANGO_SECRET_KEY": "x", **static}, check=True)
    with gunicorn(workers=1, env=static) as (url, _):
        status, _, page = http("GET", f"{url}/admin/login/")
        assert status == 200
        css = page.decode().split('href="/static/admin/css/base')[1].split('"')[0]
        status, headers, _ = http("GET", f"{url}/static/admin/css/base{css}")
    assert status == 200
    assert headers["Content-Type"].startswith("text/css")
