"""GET /metrics: off by default, Bearer-protected, Prometheus text, summed across gunicorn workers."""

import json
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.test import override_settings
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from config import multiprocess
from lookup.metrics import DURATION
from tests.processes import manage
from tests.servers import gunicorn, http

METRICS_TOKEN = "metrics-test-token-0123456789"
ON = {"METRICS_ENABLED": True, "METRICS_TOKEN": METRICS_TOKEN}
AUTH = {"HTTP_AUTHORIZATION": f"Bearer {METRICS_TOKEN}"}
URL = "/api/customer/lookup"
OUTCOMES = ["success", "not_found", "no_number", "bad_request", "unauthorized"]


def samples(text: str) -> dict:
    """{(sample name, sorted labels): value} from the Prometheus text format."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def requests_total(values: dict, outcome: str) -> float:
    return values.get(("lookup_requests_total", (("outcome", outcome),)), 0.0)


def test_off_by_default(client):
    response = client.get("/metrics", **AUTH)
    assert (response.status_code, response.content) == (404, b'{"error":"Not found"}')


@override_settings(**ON)
@pytest.mark.parametrize(
    "header", [None, "Bearer wrong-token", f"Bearer {METRICS_TOKEN} ", f"Token {METRICS_TOKEN}", METRICS_TOKEN]
)
def test_refused_without_its_token(client, header):
    response = client.get("/metrics", **({"HTTP_AUTHORIZATION": header} if header else {}))
    assert (response.status_code, response.content) == (401, b'{"error":"Unauthorized"}')
    assert response["WWW-Authenticate"] == "Bearer"


def test_enabled_without_token_is_a_configuration_error():
    result = manage("check", env={"DJANGO_SECRET_KEY": "x", "METRICS_ENABLED": "1"})
    assert result.returncode == 1
    assert (
        "ImproperlyConfigured: METRICS_ENABLED=1 needs METRICS_TOKEN: /metrics answers only `Bearer $METRICS_TOKEN`."
        in result.stderr
    )


@override_settings(**ON)
@pytest.mark.django_db
def test_counts_every_outcome_and_duration(client, api, anon_api, alice):
    before = samples(client.get("/metrics", **AUTH).content.decode())
    api.post(URL, {"phoneNumber": "+15551234567"}, format="json")
    api.post(URL, {"phoneNumber": "+15551234567"}, format="json")
    api.post(URL, {"phoneNumber": "+15550000000"}, format="json")
    api.post(URL, {"phoneNumber": "anonymous"}, format="json")
    api.post(URL, {}, format="json")
    anon_api.post(URL, {"phoneNumber": "+15551234567"}, format="json")
    response = client.get("/metrics", **AUTH)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; version=1.0.0; charset=utf-8"
    after = samples(response.content.decode())
    deltas = {o: requests_total(after, o) - requests_total(before, o) for o in OUTCOMES}
    assert deltas == {"success": 2, "not_found": 1, "no_number": 1, "bad_request": 1, "unauthorized": 1}
    count = ("lookup_duration_seconds_count", ())
    assert after[count] - before[count] == 6
    assert ("lookup_duration_seconds_bucket", (("le", "3.0"),)) in after
    assert after[("lookup_tokens_active", ())] == 1
    assert after[("lookup_tokens_in_use", ())] == 1  # genesys-test was just used


def test_histogram_buckets_fit_the_three_second_budget():
    assert DURATION._upper_bounds == [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, float("inf")]


def test_prepare_dir_empties_a_given_directory(tmp_path, monkeypatch):
    (tmp_path / "counter_123.db").write_bytes(b"stale")
    (tmp_path / "keep.txt").write_text("not ours")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    assert multiprocess.prepare_dir() == str(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_prepare_dir_makes_a_temporary_directory(monkeypatch):
    # Set (to empty, which prepare_dir treats as unset) through monkeypatch, so teardown also removes
    # the value prepare_dir writes: a stale directory in os.environ would reach every later subprocess.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")
    path = multiprocess.prepare_dir()
    try:
        assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == path
        assert Path(path).is_dir() and Path(path).name.startswith("crm-metrics-")
    finally:
        shutil.rmtree(path)


def test_dead_worker_gauge_files_are_removed(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    for name in ["gauge_livesum_4242.db", "gauge_liveall_4242.db", "counter_4242.db", "gauge_livesum_7.db"]:
        (tmp_path / name).write_bytes(b"")
    multiprocess.worker_exited(4242)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["counter_4242.db", "gauge_livesum_7.db"]


def per_worker_lookups(directory: Path) -> list[float]:
    """Lookups counted by each worker, from its own counter file."""
    totals = []
    for file in sorted(directory.glob("counter_*.db")):
        alone = Path(tempfile.mkdtemp(prefix=f"alone-{file.stem}-", dir=directory.parent))
        shutil.copy(file, alone)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(alone))
        totals.append(sum(registry.get_sample_value("lookup_requests_total", {"outcome": o}) or 0 for o in OUTCOMES))
    return totals


@pytest.mark.server
@pytest.mark.django_db(transaction=True)
def test_metrics_sum_all_gunicorn_workers(alice, token, tmp_path):
    metrics_dir = tmp_path / "prom"
    env = {"METRICS_ENABLED": "1", "METRICS_TOKEN": METRICS_TOKEN, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    numbers = ["+15551234567", "+15550000000", "anonymous"] * 10  # a batch: 10 lookups of each answer
    batches = 0
    with gunicorn(workers=2, env=env) as (url, _):

        def lookup(number):
            body = json.dumps({"phoneNumber": number}).encode()
            headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
            return http("POST", f"{url}{URL}", body=body, headers=headers)[0]

        # Concurrent batches until both workers have answered some (a worker still booting
        # may miss the first batch); bounded, so a single-worker bug still fails below.
        while batches < 10 and (batches == 0 or len([n for n in per_worker_lookups(metrics_dir) if n]) < 2):
            with ThreadPoolExecutor(max_workers=4) as pool:
                assert list(pool.map(lookup, numbers)) == [200] * 30
            batches += 1
        assert http("POST", f"{url}{URL}", body=b"{}", headers={"Authorization": "Bearer nope"})[0] == 401
        assert http("GET", f"{url}/metrics")[0] == 401
        scrapes = [
            http("GET", f"{url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}) for _ in range(4)
        ]
        per_worker = per_worker_lookups(metrics_dir)
    for status, _, body in scrapes:  # whichever worker answers the scrape, it reports all workers' lookups
        values = samples(body.decode())
        assert status == 200
        assert {o: requests_total(values, o) for o in OUTCOMES} == {
            "success": 10 * batches,
            "not_found": 10 * batches,
            "no_number": 10 * batches,
            "bad_request": 0,
            "unauthorized": 1,
        }
        assert values[("lookup_duration_seconds_count", ())] == 30 * batches + 1
    assert sum(per_worker) == 30 * batches + 1
    assert len([n for n in per_worker if n]) == 2  # both workers counted lookups
