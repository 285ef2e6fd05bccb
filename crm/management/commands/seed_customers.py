"""Generate synthetic customers with unique phone numbers, in bulk."""

import time
from concurrent.futures import ThreadPoolExecutor, as_completed

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, connection, connections
from django.utils import timezone

from crm import seeding


class Command(BaseCommand):
    help = (
        "Make sure seeded customers CUST-0000001 .. CUST-<count> exist, each with one unique phone number "
        "(+1 NPA 555 LLLL, see crm/seeding.py) and a Gold/Silver/Bronze tier. Customers that exist are left "
        "alone, so re-runs add nothing twice. One transaction per batch; COPY on PostgreSQL, where "
        "--workers batches run in parallel on their own connections."
    )

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, required=True, help="How many seeded customers should exist.")
        parser.add_argument("--batch-size", type=int, default=50_000, help="Customers per transaction.")
        parser.add_argument(
            "--workers", type=int, default=2, help="Parallel batches on PostgreSQL (SQLite always uses 1)."
        )

    def handle(self, *args, count, batch_size, workers, **options):
        if not 0 < count <= seeding.CAPACITY:
            raise CommandError(f"--count must be between 1 and {seeding.CAPACITY:,}.")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        if workers < 1:
            raise CommandError("--workers must be at least 1.")
        if connection.vendor != "postgresql" or connection.in_atomic_block:
            # SQLite has one writer at a time; inside a caller's transaction (a test, another
            # command) other connections could not see its rows, so stay on this connection.
            workers = 1
        tiers = seeding.ensure_tiers()
        today = timezone.localdate()
        ranges = [(start, min(start + batch_size, count + 1)) for start in range(1, count + 1, batch_size)]
        self._started, self._done, self._added = time.perf_counter(), 0, 0
        if workers == 1:
            for start, stop in ranges:  # on this thread's connection (and inside a test's transaction)
                self._finished(start, stop, count, lambda a=start, b=stop: seeding.seed_range(a, b, tiers, today))
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                futures = {
                    pool.submit(_on_own_connection, seeding.seed_range, a, b, tiers, today): (a, b) for a, b in ranges
                }
                try:
                    for future in as_completed(futures):
                        start, stop = futures[future]
                        self._finished(start, stop, count, future.result)
                except BaseException:
                    pool.shutdown(cancel_futures=True)  # batches not started yet are not written
                    raise
        elapsed = time.perf_counter() - self._started
        if self._added == 0:
            self.stdout.write(f"Nothing to do: all {count:,} seeded customers exist already.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Added {self._added:,} customers with phones in {elapsed:.1f} s "
                f"({self._added / elapsed:,.0f} customers/s); {count:,} seeded customers now."
            )
        )

    def _finished(self, start: int, stop: int, count: int, result) -> None:
        """Collect one batch's result (raising a clear error for a clash) and report progress."""
        try:
            self._added += result()
        except IntegrityError as error:
            raise CommandError(
                f"Customers {seeding.customer_id(start)}..{seeding.customer_id(stop - 1)} clash with existing "
                f"data (a phone number is taken); this batch was not written, the others were. {error}"
            ) from error
        self._done += stop - start
        self._progress(self._done, count, self._added / max(time.perf_counter() - self._started, 1e-9))

    def _progress(self, done: int, total: int, rate: float) -> None:
        """A bar redrawn in place on a terminal; one plain line per batch in logs and pipes."""
        if self.stdout.isatty():
            width = 30
            filled = width * done // total
            bar = "#" * filled + "-" * (width - filled)
            self.stdout.write(f"\r[{bar}] {done:,}/{total:,} {rate:,.0f}/s", ending="\n" if done == total else "")
            self.stdout.flush()
        else:
            self.stdout.write(f"seeded {done:,}/{total:,} ({rate:,.0f} customers/s)")


def _on_own_connection(function, *args):
    """Run in a worker thread, which has its own database connection; close it afterwards."""
    try:
        return function(*args)
    finally:
        connections.close_all()
