"""gunicorn settings for `make run` and production (read by `gunicorn -c config/gunicorn.conf.py`)."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY") or min(2 * multiprocessing.cpu_count(), 8))
# Two instances on one machine (make run beside a test server) must not share a control socket.
control_socket_disable = True
accesslog = "-"
errorlog = "-"


# Prometheus multiprocess mode (GET /metrics sums all workers): lookup/multiprocess.py.
def on_starting(server):
    from lookup.multiprocess import prepare_dir

    prepare_dir()


def child_exit(server, worker):
    from lookup.multiprocess import worker_exited

    worker_exited(worker.pid)
