"""seed_customers: bulk synthetic customers with unique possible phone numbers, idempotent."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from crm import seeding
from crm.models import Customer, CustomerPhone, Tier
from crm.phones import normalize_phone
from crm.selectors import customer_by_phone

pytestmark = pytest.mark.django_db


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_customers", *args, stdout=out)
    return out.getvalue()


def test_phone_numbers_are_possible_unique_and_deterministic():
    samples = [1, 2, 9_999, 10_000, 10_001, 1_000_000, seeding.CAPACITY]
    numbers = [seeding.phone_number(n) for n in samples]
    assert numbers == [
        "+12005550000",
        "+12005550001",
        "+12005559998",
        "+12005559999",
        "+12015550000",
        "+12995559999",
        "+19995559999",
    ]
    assert all(normalize_phone(number) == number for number in numbers)


def test_seed_creates_customers_with_phones_and_tiers(alice):
    out = seed("--count", "250", "--batch-size", "100")
    lines = out.splitlines()
    # Not a terminal: one plain progress line per batch, then the summary.
    assert [line.split(" (")[0] for line in lines[:3]] == [
        "seeded 100/250",
        "seeded 200/250",
        "seeded 250/250",
    ]
    assert lines[3].startswith("Added 250 customers with phones in ") and lines[3].endswith(
        "; 250 seeded customers now."
    )
    seeded = Customer.objects.filter(customer_id__regex=seeding.ID_PATTERN)
    assert seeded.count() == 250
    assert CustomerPhone.objects.filter(customer__in=seeded).count() == 250
    assert sorted(Tier.objects.values_list("name", flat=True)) == ["Bronze", "Gold", "Silver"]
    assert set(seeded.values_list("tier__name", flat=True)) == {"Bronze", "Gold", "Silver"}
    first = customer_by_phone(normalize_phone("(200) 555-0000"))
    assert first.customer_id == "CUST-0000001" and first.first_name and first.last_name
    assert customer_by_phone("+12005550249").customer_id == "CUST-0000250"
    assert Customer.objects.filter(customer_id="CUST-001").exists()  # existing data untouched


def test_rerun_adds_nothing_twice_and_continues_after_the_last():
    seed("--count", "120", "--batch-size", "50")
    assert seed("--count", "120").endswith("Nothing to do: all 120 seeded customers exist already.\n")
    assert seed("--count", "100").endswith("Nothing to do: all 100 seeded customers exist already.\n")
    seed("--count", "150")
    assert Customer.objects.count() == 150
    ids = sorted(Customer.objects.values_list("customer_id", flat=True))
    assert ids == [f"CUST-{n:07d}" for n in range(1, 151)]


def test_clash_with_existing_phone_reports_the_batch_and_keeps_earlier_batches(alice):
    CustomerPhone.objects.create(customer=alice, number=seeding.phone_number(15))
    with pytest.raises(CommandError) as error:
        seed("--count", "30", "--batch-size", "10", "--workers", "1")
    assert str(error.value).startswith(
        "Customers CUST-0000011..CUST-0000020 clash with existing data (a phone number is taken); "
        "this batch was not written, the others were."
    )
    assert Customer.objects.filter(customer_id__regex=seeding.ID_PATTERN).count() == 10


def test_rerun_fills_a_gap_whatever_the_batch_size():
    seed("--count", "40", "--batch-size", "10")
    Customer.objects.filter(customer_id__in=[seeding.customer_id(n) for n in range(12, 18)]).delete()
    out = seed("--count", "45", "--batch-size", "7")
    assert out.splitlines()[-1].startswith("Added 11 customers with phones in ")
    assert sorted(Customer.objects.values_list("customer_id", flat=True)) == [
        seeding.customer_id(n) for n in range(1, 46)
    ]
    assert CustomerPhone.objects.count() == 45
    assert customer_by_phone(normalize_phone(seeding.phone_number(12))).customer_id == "CUST-0000012"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--count", "0"], "--count must be between 1 and 8,000,000."),
        (["--count", "8000001"], "--count must be between 1 and 8,000,000."),
        (["--count", "5", "--batch-size", "0"], "--batch-size must be at least 1."),
        (["--count", "5", "--workers", "0"], "--workers must be at least 1."),
    ],
)
def test_bad_arguments(args, message):
    with pytest.raises(CommandError) as error:
        seed(*args)
    assert str(error.value) == message


def test_progress_bar_on_a_terminal(monkeypatch):
    out = StringIO()
    out.isatty = lambda: True
    call_command("seed_customers", "--count", "20", "--batch-size", "10", stdout=out)
    text = out.getvalue()
    assert text.startswith("\r[###############---------------] 10/20 ")
    assert "\r[##############################] 20/20 " in text


@pytest.mark.django_db(transaction=True)
def test_parallel_workers_seed_every_customer_once():
    out = seed("--count", "95", "--batch-size", "10", "--workers", "3")
    assert out.splitlines()[-1].startswith("Added 95 customers with phones in ")
    assert Customer.objects.count() == CustomerPhone.objects.count() == 95
    numbers = set(CustomerPhone.objects.values_list("number", flat=True))
    assert numbers == {seeding.phone_number(n) for n in range(1, 96)}
