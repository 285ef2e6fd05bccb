"""What the admin timing scripts share: a logged-in client and the table of median server times."""

import statistics
import time

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext


def admin_client() -> Client:
    """A test client logged in as the superuser "bench-admin" (created if missing, unusable password)."""
    user, _ = get_user_model().objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(user)
    return client


def time_pages(client: Client, pages, runs: int, budget_ms: float) -> bool:
    """Print one row a page (a URL, or a function that makes it when its turn comes); True if all are in budget."""
    print(f"{'page':44} {'median ms':>10} {'max ms':>8} {'queries':>8} {'slowest query ms':>17}  ok")
    failed = False
    for label, url in pages:
        if callable(url):
            url = url()
        client.get(url)  # warm up caches and the connection
        times, slowest, queries = [], 0.0, 0
        for _ in range(runs):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{url} answered {response.status_code}")
            queries = len(captured.captured_queries)
            slowest = max(slowest, *(float(q["time"]) * 1000 for q in captured.captured_queries))
        median = statistics.median(times)
        ok = median < budget_ms
        failed |= not ok
        print(f"{label[:44]:44} {median:10.1f} {max(times):8.1f} {queries:8d} {slowest:17.1f}  {'yes' if ok else 'NO'}")
    return not failed
