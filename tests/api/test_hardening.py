"""Production hardening in-process: request ids, per-token throttle, replica router, deploy settings."""

import os

import pytest
from django.core.cache import cache

from config.routers import LookupReplicaRouter
from crm.models import Customer
from lookup.api.throttling import TokenRateThrottle
from lookup.models import ApiToken
from lookup.services import token_create
from tests.contract import ALICE_BODY, URL, assert_json, post
from tests.processes import PRODUCTION_ENV, manage

pytestmark = pytest.mark.django_db

THROTTLED_BODY = b'{"error":"Request was throttled. Expected available in 60 seconds."}'


# -- request id -----------------------------------------------------------------------


def test_request_id_is_generated_when_absent(client):
    response = client.get("/healthz")
    assert len(response["X-Request-ID"]) == 32
    assert int(response["X-Request-ID"], 16) >= 0


def test_sane_incoming_request_id_is_kept(client):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a:42")["X-Request-ID"] == "lb-7f3a:42"


@pytest.mark.parametrize("incoming", ["", "has space", "x" * 129, "semi;colon", "new\nline", "ünïcode"])
def test_insane_incoming_request_id_is_replaced(client, incoming):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=incoming)
    assert response["X-Request-ID"] != incoming
    assert len(response["X-Request-ID"]) == 32


def test_request_id_and_token_name_reach_the_wsgi_environ(api, alice):
    response = post(api, {"phoneNumber": "+15551234567"})
    environ = response.wsgi_request.META
    assert environ["crm.token_name"] == "genesys-test"
    assert environ["crm.request_id"] == response["X-Request-ID"]


# -- throttling -----------------------------------------------------------------------


@pytest.fixture
def three_per_minute(monkeypatch):
    """Rate 3/min on a clock frozen at the start of a minute window, from an empty cache."""
    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {"lookup": "3/min"})
    monkeypatch.setattr(TokenRateThrottle, "timer", lambda self: 999_960.0)
    cache.clear()
    yield
    cache.clear()


def test_fourth_lookup_in_a_minute_is_429_with_retry_after(api, alice, three_per_minute):
    for _ in range(3):
        assert_json(post(api, {"phoneNumber": "+15551234567"}), 200, ALICE_BODY)
    response = post(api, {"phoneNumber": "+15551234567"})
    assert_json(response, 429, THROTTLED_BODY)
    assert response["Retry-After"] == "60"


def test_retry_after_counts_down_to_the_end_of_the_window(api, alice, three_per_minute, monkeypatch):
    for _ in range(3):
        post(api, {"phoneNumber": "+15551234567"})
    monkeypatch.setattr(TokenRateThrottle, "timer", lambda self: 999_960.0 + 45.2)
    response = post(api, {"phoneNumber": "+15551234567"})
    assert_json(response, 429, b'{"error":"Request was throttled. Expected available in 15 seconds."}')
    assert response["Retry-After"] == "15"
    monkeypatch.setattr(TokenRateThrottle, "timer", lambda self: 999_960.0 + 60)
    assert_json(post(api, {"phoneNumber": "+15551234567"}), 200, ALICE_BODY)


def test_get_and_post_share_the_limit(api, alice, three_per_minute):
    for _ in range(3):
        assert api.get(URL, {"phoneNumber": "+15551234567"}).status_code == 200
    assert post(api, {"phoneNumber": "+15551234567"}).status_code == 429


def test_each_token_has_its_own_limit(api, anon_api, alice, three_per_minute):
    for _ in range(4):
        post(api, {"phoneNumber": "+15551234567"})
    assert post(api, {"phoneNumber": "+15551234567"}).status_code == 429
    _, other = token_create(name="genesys-other-org")
    anon_api.credentials(HTTP_AUTHORIZATION=f"Bearer {other}")
    assert_json(post(anon_api, {"phoneNumber": "+15551234567"}), 200, ALICE_BODY)


def test_unauthenticated_requests_are_401_not_throttled(anon_api, three_per_minute):
    for _ in range(5):
        assert post(anon_api, {"phoneNumber": "+15551234567"}).status_code == 401


def test_throttle_key_is_the_token_name_or_the_client_ip(rf):
    throttle = TokenRateThrottle()
    throttle.scope = "lookup"
    request = rf.get(URL, REMOTE_ADDR="192.0.2.7")
    request.user = type("TokenUser", (), {"token_name": "genesys-prod"})()
    assert throttle.get_cache_key(request, None) == "throttle_lookup_token:genesys-prod"
    request.user = None
    assert throttle.get_cache_key(request, None) == "throttle_lookup_ip:192.0.2.7"


# -- read replica router --------------------------------------------------------------


def test_router_sends_only_marked_reads_to_the_replica():
    router = LookupReplicaRouter()
    router.monitor.pid = os.getpid()  # no checker thread: the state is set by hand
    router.monitor._set("ok", 0.0, "")
    assert router.db_for_read(Customer) is None  # default
    assert router.db_for_read(Customer, replica_ok=True) == "replica"  # the lookup's hint
    assert router.db_for_write(Customer, replica_ok=True) == "default"
    assert router.db_for_read(ApiToken) is None
    assert router.allow_migrate("default", "crm") is True
    assert router.allow_migrate("replica", "crm") is False


class RecordingRouter:
    """Remembers every read the app asks a router about; leaves the choice to the default."""

    reads: list = []

    def db_for_read(self, model, **hints):
        self.reads.append((model._meta.label, hints.get("replica_ok", False)))


def test_lookup_lets_the_configured_router_choose_its_customer_read(api, alice, settings):
    RecordingRouter.reads = []
    settings.DATABASE_ROUTERS = [f"{__name__}.RecordingRouter"]
    assert_json(post(api, {"phoneNumber": "+15551234567"}), 200, ALICE_BODY)
    # The customer query offers the replica; the token check reads the primary (revocation acts at once).
    assert ("crm.Customer", True) in RecordingRouter.reads
    assert ("lookup.ApiToken", False) in RecordingRouter.reads
    assert ("lookup.ApiToken", True) not in RecordingRouter.reads


# -- settings switched by the environment (fresh processes) ----------------------------


def test_check_deploy_is_clean_with_production_env():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_warns_without_the_tls_proxy_switch():
    env = {**PRODUCTION_ENV, "DJANGO_BEHIND_TLS_PROXY": "0"}
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 1
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr


SHOW = (
    "from django.conf import settings as s; "
    "print(s.CACHES['default']['BACKEND']); print(sorted(s.DATABASES)); "
    "print(getattr(s, 'DATABASE_ROUTERS', [])); print(s.DATABASES['default'].get('OPTIONS'))"
)


def test_production_env_selects_redis_replica_router_and_connect_timeout():
    out = manage("shell", "-v0", "-c", SHOW, env=PRODUCTION_ENV).stdout.splitlines()
    assert out == [
        "django.core.cache.backends.redis.RedisCache",
        "['default', 'replica']",
        "['config.routers.LookupReplicaRouter']",
        "{'connect_timeout': 2, 'server_side_binding': True, 'prepare_threshold': 5}",
    ]


def test_default_env_uses_local_memory_and_one_database():
    env = {"DJANGO_SECRET_KEY": "x", "DATABASE_URL": "sqlite:////tmp/crm-settings-test.sqlite3"}
    out = manage("shell", "-v0", "-c", SHOW, env=env).stdout.splitlines()
    assert out[:3] == ["django.core.cache.backends.locmem.LocMemCache", "['default']", "[]"]


def test_throttle_fails_open_when_the_cache_is_unreachable(api, alice, three_per_minute, monkeypatch, caplog):
    from prometheus_client import REGISTRY

    def unreachable(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(cache, "incr", unreachable)
    monkeypatch.setattr(cache, "add", unreachable)
    before = REGISTRY.get_sample_value("lookup_throttle_fail_open_total") or 0
    for _ in range(5):  # over the limit of three: still answered
        assert_json(post(api, {"phoneNumber": "+15551234567"}), 200, ALICE_BODY)
    assert REGISTRY.get_sample_value("lookup_throttle_fail_open_total") - before == 5
    assert "throttle failed open: the cache is unreachable (ConnectionError)" in caplog.text
