"""Server time of the Interactions admin pages at 1,000,000 interactions, through Django's test client.

Usage (PostgreSQL; a database with customers from `manage.py seed_customers`):

    DATABASE_URL=postgres://crm:crm@127.0.0.1:5432/crm_interactions_big DJANGO_SECRET_KEY=bench \\
        .venv/bin/python bench/interactions_admin_timings.py [--interactions 1000000] [--runs 5]

Tops the table up to --interactions rows first (one INSERT ... SELECT per 100,000 on the server:
nine in ten matched to a seeded customer, twelve queues, six wrap-up codes, one every 7 seconds
back from now). Each page is requested once to warm up, then --runs times; the median and the
worst are printed with the number of SQL queries and the slowest query.
"""

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.page_timings import admin_client, time_pages  # noqa: E402
from crm.models import Customer, Interaction  # noqa: E402

BUDGET_MS = 300.0  # the customer list's budget (bench/admin_timings.py)
BATCH = 100_000
CODES = ["Resolved", "Escalated", "Callback", "Billing", "Sales", "No answer"]

# g is the row number; customers are picked round-robin from the seeded ones.
INSERT = f"""
INSERT INTO crm_interaction (conversation_id, customer_id, ani, dnis, direction, media_type, disconnect_type,
    started_at, ended_at, duration_ms, queue_id, agent_id, wrapup_code, wrapup_notes, wrapup_at, occurred_at,
    created_at, updated_at)
SELECT 'bench-' || lpad(g::text, 8, '0'),
    CASE WHEN g %% 10 = 0 THEN NULL ELSE %(first)s + g %% %(customers)s END,
    '+1303' || lpad((g %% 10000000)::text, 7, '0'), 'tel:+18005550100', 'inbound', 'voice', 'peer',
    now() - g * interval '7 seconds' - interval '150 seconds', now() - g * interval '7 seconds' - interval '30 seconds',
    120000, 'queue-' || (g %% 12), 'agent-' || (g %% 300),
    (ARRAY{CODES!r})[1 + g %% {len(CODES)}], '', now() - g * interval '7 seconds', now() - g * interval '7 seconds',
    now(), now()
FROM generate_series(%(start)s, %(stop)s - 1) AS g
"""


def seed(target: int) -> None:
    have = Interaction.objects.count()
    first = Customer.objects.order_by("pk").values_list("pk", flat=True).first()
    customers = Customer.objects.count()
    if first is None:
        raise SystemExit("no customers: run `manage.py seed_customers --count 100000` first")
    # Seeded customers have consecutive primary keys; the round-robin relies on that.
    started = time.monotonic()
    for start in range(have, target, BATCH):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                INSERT, {"first": first, "customers": customers, "start": start, "stop": min(start + BATCH, target)}
            )
        print(f"  seeded {min(start + BATCH, target):,} interactions", flush=True)
    if target > have:
        print(f"seeded {target - have:,} interactions in {time.monotonic() - started:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE crm_interaction")


def pages() -> list[tuple[str, str]]:
    base = "/admin/crm/interaction/"
    middle = Interaction.objects.order_by("-occurred_at").values_list("pk", "conversation_id", "ani", "customer_id")[
        Interaction.objects.count() // 2
    ]
    pk, conversation_id, ani, customer_pk = middle
    customer_pk = customer_pk or Customer.objects.order_by("pk").values_list("pk", flat=True).first()
    return [
        ("changelist", base),
        ("changelist, page 50", f"{base}?p=50"),
        ("date: past 7 days", date_link),  # made when its turn comes
        ("wrap-up code Escalated", f"{base}?wrapup_code=Escalated"),
        ("queue queue-3", f"{base}?queue_id=queue-3"),
        ("unknown callers", f"{base}?matched=no"),
        ("matched callers", f"{base}?matched=yes"),
        ("unknown callers, wrap-up Resolved", f"{base}?matched=no&wrapup_code=Resolved"),
        # The seed gives unknown callers (g % 10 == 0) only odd-numbered codes: no row matches, so
        # both indexes are read to the end. The worst case of a filter combination.
        ("unknown + Escalated (no match, worst case)", f"{base}?matched=no&wrapup_code=Escalated"),
        ("one customer's interactions", f"{base}?customer__id__exact={customer_pk}"),
        (f"search conversation {conversation_id}", f"{base}?q={conversation_id}"),
        (f"search phone {ani}", f"{base}?q={ani}"),
        ("interaction page", f"{base}{pk}/change/"),
        ("customer page (recent interactions)", f"/admin/crm/customer/{customer_pk}/change/"),
        # The reference: the customer list's budget is what this page is held to.
        ("customer changelist (reference)", "/admin/crm/customer/"),
    ]


def date_link() -> str:
    """The "Past 7 days" link as the changelist's date filter builds it (local midnights)."""
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    since, until = today - timedelta(days=7), today + timedelta(days=1)
    return "/admin/crm/interaction/?" + urlencode({"occurred_at__gte": str(since), "occurred_at__lt": str(until)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("this benchmark seeds with PostgreSQL's generate_series: set DATABASE_URL=postgres://...")

    seed(args.interactions)
    call_command("collectstatic", interactive=False, verbosity=0)  # pages link hashed static files
    client = admin_client()

    print(f"\n{Interaction.objects.count():,} interactions, {Customer.objects.count():,} customers; {args.runs} runs")
    sys.exit(0 if time_pages(client, pages(), args.runs, BUDGET_MS) else 1)


if __name__ == "__main__":
    main()
