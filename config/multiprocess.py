"""gunicorn hooks for prometheus_client's multiprocess mode (used by config/gunicorn.conf.py).

Nothing here imports prometheus_client at module level: its value class is chosen at import
time from PROMETHEUS_MULTIPROC_DIR, so the directory must be in the environment first.
"""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare_dir() -> str:
    """At master start: use $PROMETHEUS_MULTIPROC_DIR emptied of stale files, or a new temp dir removed at exit."""
    path = os.environ.get(ENV)
    if path:
        Path(path).mkdir(parents=True, exist_ok=True)
        # Files of a previous run would be summed into this one's counters.
        for stale in Path(path).glob("*.db"):
            stale.unlink()
        return path
    path = tempfile.mkdtemp(prefix="crm-metrics-")
    os.environ[ENV] = path  # workers fork after this and inherit it
    master = os.getpid()
    # Workers inherit this exit hook too: only the master removes the directory.
    atexit.register(lambda: os.getpid() == master and shutil.rmtree(path, ignore_errors=True))
    return path


def worker_exited(pid: int) -> None:
    """A dead worker's gauges must not linger (its counters stay, as Prometheus counters should)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid)
