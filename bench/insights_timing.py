"""Time the "Lookup insights" admin page against the database in DATABASE_URL (not part of `make test`).

    DATABASE_URL=postgres://... python manage.py seed_lookup_events --count 1000000
    DATABASE_URL=postgres://... python bench/interactions_admin_timings.py  # 1,000,000 interactions (optional)
    DATABASE_URL=postgres://... python bench/insights_timing.py [--runs 5]

Renders each window through Django's test Client as a logged-in superuser, after one warm-up
request, and prints the median and worst wall time and the number of SQL queries per page.
The daily rollups are dropped first, so the warm-up ("first") is the view that makes them.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# tests.settings: plain static storage, so no collectstatic is needed to render admin pages.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

from crm.models import Interaction  # noqa: E402
from lookup.insights import rollup  # noqa: E402
from lookup.models import LookupEvent  # noqa: E402

PAGES = ["/admin/insights/?window=24h", "/admin/insights/?window=7d", "/admin/insights/?window=30d"]
PAGES += [f"/admin/insights/unknown-callers/?window={w}" for w in ("24h", "30d", "all")]
PAGES += ["/admin/insights/unknown-callers/?window=all&page=100"]
# As in tests/admin/test_insights_admin.py: independent of the number of events and interactions.
QUERY_BUDGET = 11


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    setup_test_environment()
    user, _ = get_user_model().objects.get_or_create(
        username="insights-bench", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client(SERVER_NAME="localhost")
    client.force_login(user)
    unmatched = Interaction.objects.filter(customer__isnull=True).count()
    print(
        f"{connection.vendor}, {LookupEvent.objects.count():,} lookup events,"
        f" {Interaction.objects.count():,} interactions ({unmatched:,} unmatched)"
    )
    rollup.forget()
    for url in PAGES:
        started = time.perf_counter()
        assert client.get(url).status_code == 200, url  # warm-up: connection, templates, rollups
        first = (time.perf_counter() - started) * 1000
        times = []
        for _ in range(args.runs):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
            assert len(queries) <= QUERY_BUDGET, f"{url}: {len(queries)} queries"
        print(
            f"{url:56} first {first:7.1f} ms  median {statistics.median(times):7.1f} ms"
            f"  max {max(times):7.1f} ms  {len(queries)} queries"
        )


if __name__ == "__main__":
    main()
