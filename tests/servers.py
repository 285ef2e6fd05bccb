"""Start real servers (gunicorn) for tests, on a free loopback port, and stop them."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_database_url() -> str:
    """DATABASE_URL of the database the tests are using right now."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user, password = quote(db["USER"] or "", safe=""), quote(db["PASSWORD"] or "", safe="")
    return f"postgres://{user}:{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def wait_until_up(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.1)
    raise RuntimeError(f"server at {url} did not come up within {timeout} s")


@contextmanager
def gunicorn(*, workers: int = 2, env: dict | None = None, log_path: Path | None = None):
    """Run the project under its production gunicorn config; yield (base_url, process)."""
    port = free_port()
    server_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_ENV_FILE": os.devnull,
        "DJANGO_SECRET_KEY": "test-server-secret-key-not-for-production",
        "DATABASE_URL": test_database_url(),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(workers),
        **(env or {}),
    }
    log = open(log_path, "wb") if log_path else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(
        [str(GUNICORN), "--config", "config/gunicorn.conf.py", "config.wsgi"],
        cwd=ROOT,
        env=server_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url)
        yield url, proc
    finally:
        proc.terminate()  # SIGTERM: gunicorn's graceful shutdown
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if log_path:
            log.close()


def http(method: str, url: str, *, body: bytes | None = None, headers: dict | None = None, timeout: float = 5.0):
    """One HTTP request; returns (status, headers, body) for any status, errors included."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def lookup(url: str, token: str, number, *, auth: str | None = None):
    """POST {"phoneNumber": number} to a running server's lookup; (status, headers, body)."""
    headers = {"Content-Type": "application/json", "Authorization": auth or f"Bearer {token}"}
    body = json.dumps({"phoneNumber": number}).encode()
    return http("POST", f"{url}/api/customer/lookup", body=body, headers=headers)


def access_lines(log_path: Path) -> list[dict]:
    """The JSON access-log lines of a server's output."""
    lines = log_path.read_text().splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")]


@dataclass
class Result:
    """One request as the client saw it: when, how long, what came back (status 0 = no answer)."""

    started: float
    elapsed: float
    status: int
    body: bytes = b""
    error: str = ""


class LoadThreads:
    """A few threads running `self._run` until stopped: the load of the fault and cluster tests.

    A dataclass using it has a `threads` field and a `results` list; `_run` appends under `_lock`.
    """

    def __post_init__(self):
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._workers = [threading.Thread(target=self._run, daemon=True) for _ in range(self.threads)]

    def __enter__(self):
        for worker in self._workers:
            worker.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=30)


@contextmanager
def jobs_worker(media_root, log_path: Path, interval: str = "0.2"):
    """`manage.py jobs_worker` (what `make run` starts) against the test database; yields the process."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_ENV_FILE": os.devnull,
        "DJANGO_SECRET_KEY": "jobs-worker-test-secret",
        "DATABASE_URL": test_database_url(),
        "DJANGO_MEDIA_ROOT": str(media_root),
    }
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "jobs_worker", "--no-reload", "--interval", interval, "--no-startup-delay"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield proc
        finally:
            if proc.poll() is not None:
                print(f"jobs_worker exited with {proc.returncode}:\n{log_path.read_text()[-5000:]}")
            proc.terminate()
            proc.wait(timeout=30)
