"""Test settings: the real settings module, with test-only overrides in one place."""

import os

# Tests never depend on a developer's .env or on a real secret.
os.environ["DJANGO_ENV_FILE"] = os.devnull
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-production")

from config.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# In-process tests read audit rows right after a request; servers started by tests keep the
# production default (batched). tests/api/test_audit.py runs its tests through both paths, and
# tests/unit/test_audit_batching.py covers the buffer, the thread and the worker-exit flush.
LOOKUP_AUDIT_FLUSH_MS = 0
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405

# File-based SQLite test database, so servers started by tests (gunicorn) see the same data.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    import tempfile
    from pathlib import Path

    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": str(Path(tempfile.gettempdir()) / f"crm-test-{os.getpid()}.sqlite3")
    }

# Background jobs run at enqueue in tests; tests/admin/test_jobs.py starts a real db_worker.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
import tempfile as _tempfile  # noqa: E402

MEDIA_ROOT = _tempfile.mkdtemp(prefix="crm-test-media-")
