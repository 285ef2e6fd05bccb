"""CPU cost of one audit row in AuditWriter.add(), with and without its spool write (in-process).

Run: DJANGO_SETTINGS_MODULE=tests.settings PYTHONPATH=. .venv/bin/python bench/spool_cost.py
"""

import os
import statistics
import tempfile
import time

import django


def main() -> None:
    django.setup()
    from django.test import override_settings
    from django.utils import timezone

    from lookup import audit

    row = (timezone.now(), "bench", "+15551234567", "success", 1, 1.234)
    results: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(5):
        for spool in (True, False):
            writer = audit.AuditWriter()
            with override_settings(LOOKUP_AUDIT_SPOOL_DIR=tempfile.mkdtemp(), LOOKUP_AUDIT_FLUSH_MS=600_000):
                writer.add(row)
                if not spool:  # the same writer with its spool file closed: the cost before the spool
                    os.close(writer.spool_fd)
                    writer.spool_fd, writer.spool_ok = None, False
                rows = 50_000
                started = time.perf_counter()
                for _ in range(rows):
                    writer.add(row)
                results[spool].append((time.perf_counter() - started) / rows * 1e6)
                writer.stop()
    for spool, runs in results.items():
        print(f"spool={spool}: median {statistics.median(runs):.2f} us/row, min {min(runs):.2f}")


if __name__ == "__main__":
    main()
