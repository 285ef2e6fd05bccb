"""`make run` never changes existing data (issue 12, finding 1), and says "Serving on" once bound."""

import os
import shlex
import sqlite3
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import call_command

from crm.models import Customer, Tier
from tests.servers import ROOT, gunicorn

DATA_STEPS = ("migrate", "load_demo_if_empty", "loaddata")


def make_run_data_steps() -> list[list[str]]:
    """The manage.py commands `make run` runs before serving that touch data, read from `make -n run`."""
    printed = subprocess.run(
        ["make", "-n", "-s", "run"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    ).stdout
    steps = []
    for line in printed.splitlines():
        plain = line.split()
        words = shlex.split(line) if len(plain) >= 3 and plain[1] == "manage.py" and plain[2] in DATA_STEPS else []
        if len(words) >= 3 and words[1] == "manage.py" and words[2] in DATA_STEPS:
            steps.append([sys.executable, *words[1:]])
    return steps


def run_steps(database: str) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_ENV_FILE": os.devnull,
        "DJANGO_SECRET_KEY": "make-run-test-secret",
        "DATABASE_URL": f"sqlite:///{database}",
    }
    for step in make_run_data_steps():
        result = subprocess.run(step, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr


def rows(database: str, sql: str) -> list[tuple]:
    with sqlite3.connect(database) as db:
        return db.execute(sql).fetchall()


def edit(database: str, *statements: str) -> None:
    with sqlite3.connect(database) as db:
        for sql in statements:
            db.execute(sql)


def test_make_run_data_steps_are_migrate_then_load_demo_if_empty():
    assert [step[1:] for step in make_run_data_steps()] == [
        ["manage.py", "migrate", "--noinput"],
        ["manage.py", "load_demo_if_empty"],
    ]


def test_second_and_third_make_run_keep_every_edit_and_start(tmp_path):
    database = str(tmp_path / "db.sqlite3")
    run_steps(database)
    customers = "SELECT c.customer_id, c.first_name, t.name, c.notes FROM crm_customer c JOIN crm_tier t ON t.id = c.tier_id ORDER BY 1"
    assert rows(database, customers) == [("CUST-001", "Alice", "Gold", ""), ("CUST-002", "Bob", "Silver", "")]

    # Finding 1, first sequence: edit Alice and the Gold tier, run again.
    edit(
        database,
        "UPDATE crm_customer SET first_name = 'Alicia', notes = 'a note', "
        "tier_id = (SELECT id FROM crm_tier WHERE name = 'Silver') WHERE customer_id = 'CUST-001'",
        "UPDATE crm_tier SET description = 'Our best customers' WHERE name = 'Gold'",
    )
    run_steps(database)
    assert rows(database, customers) == [("CUST-001", "Alicia", "Silver", "a note"), ("CUST-002", "Bob", "Silver", "")]
    assert rows(database, "SELECT description FROM crm_tier WHERE name = 'Gold'") == [("Our best customers",)]

    # Second sequence: delete Bob, give his number to a new CUST-200, run again: it starts, nothing returns.
    edit(
        database,
        "DELETE FROM crm_customerphone WHERE customer_id = (SELECT id FROM crm_customer WHERE customer_id = 'CUST-002')",
        "DELETE FROM crm_customer WHERE customer_id = 'CUST-002'",
        "INSERT INTO crm_customer (customer_id, first_name, last_name, tier_id, notes, created_at, updated_at) "
        "VALUES ('CUST-200', 'Dee', 'New', 1, '', '2024-01-01', '2024-01-01')",
        "INSERT INTO crm_customerphone (customer_id, number, label) "
        "VALUES ((SELECT id FROM crm_customer WHERE customer_id = 'CUST-200'), '+15559876543', 'mobile')",
    )
    run_steps(database)
    assert rows(database, customers) == [("CUST-001", "Alicia", "Silver", "a note"), ("CUST-200", "Dee", "Gold", "")]
    assert rows(
        database,
        "SELECT c.customer_id, p.number FROM crm_customerphone p JOIN crm_customer c ON c.id = p.customer_id ORDER BY 1",
    ) == [("CUST-001", "+15551234567"), ("CUST-200", "+15559876543")]


@pytest.mark.django_db
def test_load_demo_if_empty_loads_only_into_a_database_without_customers_and_tiers():
    out = StringIO()
    call_command("load_demo_if_empty", stdout=out)
    assert out.getvalue() == "Loaded the demo customers and tiers (fixtures/demo.json).\n"
    Customer.objects.all().delete()  # tiers stay
    again = StringIO()
    call_command("load_demo_if_empty", stdout=again)
    assert again.getvalue() == (
        "Demo data not loaded: the database already has customers or tiers (kept as they are).\n"
    )
    assert (Customer.objects.count(), Tier.objects.count()) == (0, 2)


@pytest.mark.server
@pytest.mark.django_db(transaction=True)
def test_serving_message_is_printed_once_gunicorn_is_bound(tmp_path):
    log = tmp_path / "gunicorn.log"
    with gunicorn(workers=1, env={"SERVING_MESSAGE": "Serving on http://example/admin/"}, log_path=log) as (url, _):
        pass
    lines = log.read_text().splitlines()
    serving = [n for n, line in enumerate(lines) if line == "Serving on http://example/admin/"]
    listening = [n for n, line in enumerate(lines) if "Listening at" in line]
    assert len(serving) == 1 and listening and listening[0] < serving[0]
