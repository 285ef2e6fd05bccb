"""Server time of the customer admin pages on a big database, through Django's test client.

Usage (against a database seeded with `manage.py seed_customers --count 1000000`):

    DATABASE_URL=postgres://crm:crm@127.0.0.1:5432/crm_big DJANGO_SECRET_KEY=bench \\
        .venv/bin/python bench/admin_timings.py [--runs 5]

Each page is requested once to warm up, then --runs times; the median and the worst
are printed with the number of SQL queries and the slowest query. Logs in as a superuser
"bench-admin" (created if missing, unusable password).
"""

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from bench.page_timings import admin_client, time_pages  # noqa: E402
from crm.models import Customer, Tier  # noqa: E402
from crm.seeding import customer_id, phone_number  # noqa: E402

BUDGET_MS = 300.0


def pages() -> list[tuple[str, str]]:
    """(label, URL) of the pages to time, built from the seeded data."""
    gold = Tier.objects.get(name="Gold")
    last = Customer.objects.order_by("-pk").values_list("pk", flat=True).first()
    n = Customer.objects.count() // 2  # a customer in the middle of the table
    national = phone_number(n)[2:]
    national = f"({national[:3]}) {national[3:6]}-{national[6:]}"
    base = "/admin/crm/customer/"
    return [
        ("changelist", base),
        ("filter by tier (Gold)", f"{base}?tier__id__exact={gold.pk}"),
        ("filter by tier, page 50", f"{base}?tier__id__exact={gold.pk}&p=50"),
        (f"search phone {national}", f"{base}?q={national}"),
        (f"search phone {phone_number(n)}", f"{base}?q={phone_number(n)}"),
        (f"search customer id {customer_id(n)}", f"{base}?q={customer_id(n)}"),
        ("search id prefix CUST-00012", f"{base}?q=CUST-00012"),
        ("search last name Smith", f"{base}?q=Smith"),
        ("customer change page", f"{base}{last}/change/"),
        ("lookup events changelist", "/admin/lookup/lookupevent/"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    call_command("collectstatic", interactive=False, verbosity=0)  # pages link hashed static files
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # planner statistics, as autovacuum keeps them
            cursor.execute("ANALYZE crm_customer")
            cursor.execute("ANALYZE crm_customerphone")
    client = admin_client()

    print(f"{Customer.objects.count():,} customers on {connection.vendor}; {args.runs} runs per page\n")
    sys.exit(0 if time_pages(client, pages(), args.runs, BUDGET_MS) else 1)


if __name__ == "__main__":
    main()
