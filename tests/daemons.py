"""Throwaway Redis and PostgreSQL servers on free loopback ports, owned (and stopped) by one test."""

import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.servers import free_port


def _postgres_bin() -> Path:
    """The newest installed Debian PostgreSQL's bin directory (any major version)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    return found[-1].parent if found else Path("/usr/lib/postgresql/missing/bin")


PG_BIN = _postgres_bin()


@contextmanager
def redis_server():
    """A private redis-server (no persistence) on a free port; yields its redis:// URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is missing: apt-get install redis-server (.ci/run installs it)")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, proc)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


class ThrowawayPostgres:
    """A PostgreSQL cluster in a temp dir, run as user postgres, that a test may stop and start."""

    def __init__(self, root: Path):
        self.data = root / "data"
        self.port = free_port()
        self.url = f"postgres://crm:crm@127.0.0.1:{self.port}/crm"

    def _as_postgres(self, *args: str, timeout: float = 60) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *args],
            check=True,
            timeout=timeout,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def init(self) -> None:
        self._as_postgres(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.start()
        psql = ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-qc"]
        self._as_postgres(*psql, "CREATE ROLE crm LOGIN CREATEDB PASSWORD 'crm'")
        self._as_postgres(*psql, "CREATE DATABASE crm OWNER crm")

    def start(self) -> None:
        options = f"-k /tmp -c listen_addresses=127.0.0.1 -p {self.port} -c fsync=off"
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options, "-w", "-t", "30", "start")

    def stop(self) -> None:
        # "fast": disconnect clients at once, as a crash or failover would.
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")


@contextmanager
def throwaway_postgres():
    """Yield a running ThrowawayPostgres (whatever PostgreSQL version Debian installed)."""
    if not (PG_BIN / "initdb").exists():
        pytest.fail("PostgreSQL is not installed: apt-get install postgresql (make test installs it when root)")
    root = Path(tempfile.mkdtemp(prefix="crm-pg-"))
    shutil.chown(root, "postgres", "postgres")
    server = ThrowawayPostgres(root)
    try:
        server.init()
        yield server
    finally:
        try:
            server.stop()
        except subprocess.CalledProcessError:
            pass  # already stopped by the test
        shutil.rmtree(root, ignore_errors=True)


def _wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on port {port} after {timeout} s")
