"""The production setup over real HTTP: access log, body limits, TLS proxy, shared throttle, replica."""

import json
import sqlite3
import time
from contextlib import ExitStack
from http.client import HTTPConnection
from urllib.parse import urlsplit

import pytest

from lookup.models import LookupEvent
from lookup.services import token_create
from tests.contract import ALICE_BODY
from tests.daemons import redis_server
from tests.processes import manage
from tests.servers import access_lines, gunicorn, http, lookup
from tests.servers import test_database_url as database_url

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]

TOO_LARGE_BODY = b'{"error":"Request body is larger than 64 KiB"}'


def test_access_log_is_one_json_object_per_line_without_the_token(alice, token, tmp_path):
    log_path = tmp_path / "server.log"
    with gunicorn(workers=1, log_path=log_path) as (url, _):
        headers = {"Authorization": f"Bearer {token}", "X-Request-ID": "genesys-call-1"}
        status, response_headers, _ = http("GET", f"{url}/api/customer/lookup?phoneNumber=5551234567", headers=headers)
        assert (status, response_headers["X-Request-ID"]) == (200, "genesys-call-1")
        http("GET", f"{url}/healthz")
    lines = access_lines(log_path)
    line = next(line for line in lines if line["request_id"] == "genesys-call-1")
    assert set(line) == {
        "time", "request_id", "method", "path", "status", "duration_ms", "token_name", "remote_addr", "pid", "bytes"
    }  # fmt: skip
    assert (line["method"], line["path"], line["status"], line["token_name"]) == (
        "GET",
        "/api/customer/lookup",
        200,
        "genesys-test",
    )
    assert 0 < line["duration_ms"] < 3000
    health = next(line for line in lines if line["path"] == "/healthz")
    assert (health["status"], health["token_name"], len(health["request_id"])) == (200, "", 32)
    text = log_path.read_text()
    assert token not in text
    assert "Bearer" not in text
    assert "5551234567" not in text  # no query strings: callers' numbers stay out of access logs


def chunked_post(url: str, token: str, body: bytes) -> tuple[int, bytes]:
    """POST with Transfer-Encoding: chunked and no Content-Length, as some proxies send."""
    parts = urlsplit(url)
    conn = HTTPConnection(parts.hostname, parts.port, timeout=5)
    chunks = (body[i : i + 8192] for i in range(0, len(body), 8192))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    conn.request("POST", "/api/customer/lookup", body=chunks, headers=headers, encode_chunked=True)
    response = conn.getresponse()
    result = response.status, response.read()
    conn.close()
    return result


def test_body_limit_holds_for_chunked_requests_over_gunicorn(alice, token):
    big = json.dumps({"phoneNumber": "+15551234567", "pad": "x" * 70_000}).encode()
    with gunicorn(workers=1) as (url, _):
        assert chunked_post(url, token, json.dumps({"phoneNumber": "+15551234567"}).encode()) == (200, ALICE_BODY)
        assert chunked_post(url, token, big) == (413, TOO_LARGE_BODY)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        status, _, body = http("POST", f"{url}/api/customer/lookup", body=big, headers=headers)
        assert (status, body) == (413, TOO_LARGE_BODY)


def get_no_redirect(url: str, path: str, headers: dict) -> tuple[int, dict, bytes]:
    """One GET that does not follow redirects (urllib would, to an https:// nobody serves)."""
    parts = urlsplit(url)
    conn = HTTPConnection(parts.hostname, parts.port, timeout=5)
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    result = response.status, dict(response.getheaders()), response.read()
    conn.close()
    return result


def test_behind_tls_proxy_redirects_plain_http_but_not_healthz(alice, token):
    path = "/api/customer/lookup?phoneNumber=5551234567"
    auth = {"Authorization": f"Bearer {token}"}
    with gunicorn(workers=1, env={"DJANGO_BEHIND_TLS_PROXY": "1"}) as (url, _):
        health = get_no_redirect(url, "/healthz", {})
        plain = get_no_redirect(url, path, auth)
        proxied = get_no_redirect(url, path, {**auth, "X-Forwarded-Proto": "https"})
    assert (health[0], health[2]) == (200, b'{"status":"ok"}')
    assert plain[0] == 301
    assert plain[1]["Location"] == f"https://{urlsplit(url).netloc}{path}"
    assert (proxied[0], proxied[2]) == (200, ALICE_BODY)
    assert proxied[1]["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


# -- throttling shared through Redis ----------------------------------------------------


def alternate(urls: list[str], token: str, count: int) -> list[tuple[int, str | None]]:
    """`count` lookups spread round-robin over the servers: (status, Retry-After) of each."""
    results = []
    for i in range(count):
        status, headers, _ = lookup(urls[i % len(urls)], token, "+15551234567")
        results.append((status, headers.get("Retry-After")))
    return results


def test_redis_shares_the_per_token_limit_across_workers_and_instances(alice, token):
    _, other_token = token_create(name="genesys-other-org")
    with ExitStack() as stack:
        redis_url = stack.enter_context(redis_server())
        env = {"REDIS_URL": redis_url, "LOOKUP_THROTTLE_RATE": "5/min"}
        # Two gunicorn instances, one worker each: nothing but Redis is shared between them.
        urls = [stack.enter_context(gunicorn(workers=1, env=env))[0] for _ in range(2)]
        results = alternate(urls, token, 6)
        other = alternate(urls, other_token, 2)
    print(f"\nshared limit 5/min over 2 instances: {results}; other token: {other}")
    assert results[:5] == [(200, None)] * 5
    assert results[5][0] == 429
    assert 1 <= int(results[5][1]) <= 60  # seconds left in the minute window
    assert other == [(200, None)] * 2


def test_without_redis_each_instance_counts_alone(alice, token):
    env = {"LOOKUP_THROTTLE_RATE": "5/min"}
    with gunicorn(workers=1, env=env) as (first, _), gunicorn(workers=1, env=env) as (second, _):
        results = alternate([first, second], token, 6)
    # Local memory is per process: what makes the limit shared above is Redis.
    assert results == [(200, None)] * 6


# -- read replica ----------------------------------------------------------------------


def test_lookup_reads_customers_from_the_replica_and_writes_audit_to_default(alice, token, tmp_path):
    replica, dump = tmp_path / "replica.sqlite3", tmp_path / "crm.json"
    # The replica is a copy of the primary: same rows, same primary keys.
    steps = [
        (database_url(), ["dumpdata", "crm", "-o", str(dump)]),
        (f"sqlite:///{replica}", ["migrate", "crm", "-v0"]),
        (f"sqlite:///{replica}", ["loaddata", str(dump), "-v0"]),
    ]
    for url, args in steps:
        manage(*args, env={"DJANGO_SECRET_KEY": "x", "DATABASE_URL": url}, check=True)
    # A replica that visibly differs from the primary proves where the read went.
    with sqlite3.connect(replica) as db:
        db.execute("UPDATE crm_customer SET first_name = 'Replica' WHERE customer_id = 'CUST-001'")
    with gunicorn(workers=1, env={"DATABASE_REPLICA_URL": f"sqlite:///{replica}"}) as (url, _):
        # Until its first health check the replica is not trusted (config/routers.py).
        deadline = time.monotonic() + 10
        while json.loads(http("GET", f"{url}/healthz")[2])["replica"]["state"] != "ok":
            assert time.monotonic() < deadline, "the replica never became healthy"
            time.sleep(0.05)
        status, _, body = lookup(url, token, "+15551234567")
    assert status == 200
    assert json.loads(body)["data"]["firstName"] == "Replica"
    assert list(LookupEvent.objects.values_list("outcome", "token_name")) == [("success", "genesys-test")]
