"""gunicorn settings for `make run` and production (read by `gunicorn -c config/gunicorn.conf.py`).

Every value can be overridden by an environment variable; docs/operations.md explains them.
"""

import multiprocessing
import os

from lookup.contract import FLOW_BUDGET_MS

bind = os.environ.get("GUNICORN_BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
# Sync workers: a lookup is a few milliseconds of CPU and one indexed query.
workers = int(os.environ.get("WEB_CONCURRENCY") or min(2 * multiprocessing.cpu_count(), 8))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = int(os.environ.get("GUNICORN_THREADS") or 1)
# Two instances on one machine (make run beside a test server) must not share a control socket.
control_socket_disable = True

# The Architect flow gives up after FLOW_BUDGET_MS. A worker silent for `timeout` seconds is killed and
# replaced, so a stuck request cannot hold a worker much past the caller's budget; a lookup
# against an unreachable PostgreSQL answers 503 first (connect_timeout 2 s, see settings).
# Admin CSV imports share this limit: in production serve /admin/ from its own instance with
# GUNICORN_TIMEOUT=120 (docs/operations.md "gunicorn").
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or FLOW_BUDGET_MS // 1000)
# On SIGTERM/SIGHUP, in-flight lookups get this long to finish before workers are killed.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT") or FLOW_BUDGET_MS // 1000)
# Load the app once in the master: workers fork ready, and a broken config fails at start.
preload_app = True
# Recycle workers now and then (bounds any slow leak); jitter keeps them from restarting together.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS") or 10000)
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER") or 1000)

# Logs to stdout: one JSON object per access line (config/accesslog.py), errors beside them.
accesslog = "-"
errorlog = "-"
logger_class = "config.accesslog.JsonAccessLogger"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")


# Prometheus multiprocess mode (GET /metrics sums all workers): config/multiprocess.py.
def on_starting(server):
    from config.multiprocess import prepare_dir

    prepare_dir()


def when_ready(server):
    """`make run` prints its banner only now, when the socket is bound (SERVING_MESSAGE)."""
    message = os.environ.get("SERVING_MESSAGE")
    if message:
        print(message, flush=True)


def worker_exit(server, worker):
    """A worker stopping (graceful stop, reload, max_requests) writes its buffered audit rows first."""
    from lookup.audit import flush_pending

    flush_pending()


def child_exit(server, worker):
    from config.multiprocess import worker_exited

    worker_exited(worker.pid)


def post_worker_init(worker):
    """Import the URLconf and its views in each new worker, not during the first caller's lookup."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018  (the import is the point)
