"""Generate synthetic customers with unique phone numbers, in bulk."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError
from django.utils import timezone

from crm import seeding


class Command(BaseCommand):
    help = (
        "Make sure seeded customers CUST-0000001 .. CUST-<count> exist, each with one unique phone number "
        "(+1 NPA 555 LLLL, see crm/seeding.py) and a Gold/Silver/Bronze tier. Re-runs continue after the "
        "highest seeded ID, so nothing is added twice. One transaction per batch; COPY on PostgreSQL."
    )

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, required=True, help="How many seeded customers should exist.")
        parser.add_argument("--batch-size", type=int, default=50_000, help="Customers per transaction.")

    def handle(self, *args, count, batch_size, **options):
        if not 0 < count <= seeding.CAPACITY:
            raise CommandError(f"--count must be between 1 and {seeding.CAPACITY:,}.")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        done = seeding.last_seeded()
        if done >= count:
            self.stdout.write(f"Nothing to do: {done:,} seeded customers exist already.")
            return
        tiers = seeding.ensure_tiers()
        today = timezone.localdate()
        todo, added, started = count - done, 0, time.perf_counter()
        for start in range(done + 1, count + 1, batch_size):
            stop = min(start + batch_size, count + 1)
            try:
                seeding.insert_batch(seeding.make_rows(start, stop, tiers, today))
            except IntegrityError as error:
                raise CommandError(
                    f"Customers {seeding.customer_id(start)}..{seeding.customer_id(stop - 1)} clash with existing "
                    f"data (a customer ID or phone number is taken); this batch was not written. {error}"
                ) from error
            added += stop - start
            self._progress(added, todo, time.perf_counter() - started)
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Added {added:,} customers with phones in {elapsed:.1f} s ({added / elapsed:,.0f} customers/s); "
                f"{count:,} seeded customers now."
            )
        )

    def _progress(self, added: int, todo: int, elapsed: float) -> None:
        """A bar redrawn in place on a terminal; one plain line per batch in logs and pipes."""
        rate = added / elapsed if elapsed else 0.0
        if self.stdout.isatty():
            width = 30
            filled = width * added // todo
            bar = "#" * filled + "-" * (width - filled)
            self.stdout.write(f"\r[{bar}] {added:,}/{todo:,} {rate:,.0f}/s", ending="\n" if added == todo else "")
            self.stdout.flush()
        else:
            self.stdout.write(f"seeded {added:,}/{todo:,} ({rate:,.0f} customers/s)")
