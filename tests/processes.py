"""Run manage.py in a fresh interpreter with a clean environment: how an operator runs it."""

import os
import secrets
import subprocess
import sys

from tests.servers import ROOT

# What a production deploy sets (docs/operations.md): check --deploy must be clean with it.
PRODUCTION_ENV = {
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "crm.example.com",
    "DJANGO_BEHIND_TLS_PROXY": "1",
    "DATABASE_URL": "postgres://crm:crm@db.example.com:5432/crm",
    "DATABASE_REPLICA_URL": "postgres://crm:crm@replica.example.com:5432/crm",
    "REDIS_URL": "redis://cache.example.com:6379/0",
}


def manage(
    *args: str, env: dict | None = None, check: bool = False, timeout: float = 120
) -> subprocess.CompletedProcess:
    """`python manage.py ARGS` with only PATH, no .env, config.settings and `env`; text output captured.

    Nothing leaks in from the test process (its DATABASE_URL, secret key or settings module),
    so what a test sees is what a shell with exactly these variables would get.
    """
    base = {"PATH": os.environ["PATH"], "DJANGO_ENV_FILE": os.devnull, "DJANGO_SETTINGS_MODULE": "config.settings"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=check,
    )
