"""Bulk-insert synthetic lookup events, to measure the insights page at scale (not for production data)."""

import random
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.utils import timezone

from crm.commands import OneLineUsageErrors, int_in_range
from lookup.insights import rollup
from lookup.models import LookupEvent

TOKEN_NAME = "seed"
BATCH = 5000
# Roughly what a contact center sees: mostly known callers, some unknown, few refusals.
WEIGHTS = {"success": 70, "not_found": 20, "no_number": 5, "bad_request": 2, "unauthorized": 3}
UNKNOWN_POOL = 5000
MAX_COUNT = 100_000_000  # a benchmark's worth; more is a typo
MAX_DAYS = 3650  # distinct unknown numbers, so the worklist has repeat callers

# PostgreSQL builds the rows itself: 1,000,000 in seconds instead of minutes through the ORM.
PG_INSERT = """
INSERT INTO lookup_lookupevent (created_at, token_name, phone_number, outcome, customer_id, duration_ms)
SELECT at,
       CASE WHEN o = 'unauthorized' THEN '' ELSE %(token)s END,
       CASE WHEN o IN ('success', 'not_found') THEN '+1202555' || lpad((floor(random() * %(pool)s))::int::text, 4, '0')
            ELSE 'none' END,
       o, NULL, round((5 + 400 * power(random(), 4))::numeric, 3)::float8
FROM (
  SELECT CASE WHEN r < %(c1)s THEN 'success' WHEN r < %(c2)s THEN 'not_found' WHEN r < %(c3)s THEN 'no_number'
              WHEN r < %(c4)s THEN 'bad_request' ELSE 'unauthorized' END AS o,
         %(now)s::timestamptz - random() * %(span)s * interval '1 second' AS at
  FROM (SELECT random() * 100 AS r FROM generate_series(1, %(count)s)) AS draws
) AS outcomes
ORDER BY at  -- rows land in time order, as real traffic does
"""


class Command(OneLineUsageErrors, BaseCommand):
    help = "Insert N synthetic lookup events spread over the last --days days (token name 'seed')."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, required=True, help="How many events to insert.")
        parser.add_argument("--days", type=int, default=30, help="Spread them over this many days back (default 30).")

    def handle(self, *args, count, days, **options):
        int_in_range(count, "--count", 1, MAX_COUNT)
        int_in_range(days, "--days", 1, MAX_DAYS)
        now = timezone.now()
        with transaction.atomic():
            if connection.vendor == "postgresql":
                self._insert_postgresql(count, days, now)
            else:
                self._insert_orm(count, days, now)
            rollup.forget(since=now - timedelta(days=days))  # past days got events: roll them up again
        if connection.vendor == "postgresql":
            # What autovacuum would do by itself a little later: statistics and the visibility map
            # (VACUUM cannot run inside a transaction, e.g. when called from a test).
            with connection.cursor() as cursor:
                cursor.execute(("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE") + " lookup_lookupevent")
        self.stdout.write(self.style.SUCCESS(f"Inserted {count} lookup events over the last {days} days."))

    def _insert_postgresql(self, count: int, days: int, now) -> None:
        cumulative, total = [], 0
        for weight in WEIGHTS.values():
            total += weight
            cumulative.append(total)
        params = {"now": now, "span": days * 86400, "token": TOKEN_NAME, "pool": UNKNOWN_POOL, "count": count}
        params.update({f"c{i + 1}": cumulative[i] for i in range(4)})
        with connection.cursor() as cursor:
            cursor.execute(PG_INSERT, params)

    def _insert_orm(self, count: int, days: int, now) -> None:
        outcomes, weights = list(WEIGHTS), list(WEIGHTS.values())
        span = days * 86400
        ages = sorted((random.random() * span for _ in range(count)), reverse=True)  # oldest first
        done = 0
        while done < count:
            batch = []
            for outcome in random.choices(outcomes, weights, k=min(BATCH, count - done)):
                age = ages[done + len(batch)]
                number = (
                    f"+1202555{random.randrange(UNKNOWN_POOL):04d}" if outcome in ("success", "not_found") else "none"
                )
                batch.append(
                    LookupEvent(
                        created_at=now - timedelta(seconds=age),
                        token_name="" if outcome == "unauthorized" else TOKEN_NAME,
                        phone_number=number,
                        outcome=outcome,
                        duration_ms=round(5 + 400 * random.random() ** 4, 3),
                    )
                )
            LookupEvent.objects.bulk_create(batch)
            done += len(batch)
