"""A 50,000-row import and a 200,000-customer export through the admin, run by a real jobs worker."""

import os
import time

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from crm.models import Customer, CustomerPhone
from tests import servers
from tests.conftest import ARTIFACTS
from tests.factories import TierFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

IMPORT_ROWS = 50_000
SEEDED = 150_000  # + the imported 50,000 = 200,000 customers to export
JOB_TIMEOUT_MS = 150_000


@pytest.fixture
def worker(settings, tmp_path):
    """`manage.py jobs_worker` against the test database; the live server enqueues into it."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    log_path = tmp_path / "worker.log"
    with servers.jobs_worker(settings.MEDIA_ROOT, log_path):
        yield log_path


def big_csv(path) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write("customer_id,first_name,last_name,tier,last_interaction_date,notes,phones\n")
        for n in range(IMPORT_ROWS):
            area, line = divmod(n, 10_000)
            fh.write(f"BR-{n:06d},Ann,Lee{n % 89},Silver,2024-02-03,,mobile:+1{300 + area}556{line:04d}\n")


def test_import_50000_rows_then_export_200000_and_download(page, admin_login, worker, tmp_path):
    os.makedirs(ARTIFACTS, exist_ok=True)
    TierFactory(name="Gold", rank=20)
    TierFactory(name="Silver", rank=10)
    started = time.monotonic()
    csv = tmp_path / "customers-50000.csv"
    big_csv(csv)

    page.goto(f"{admin_login}/admin/crm/customer/import/")
    page.set_input_files("#id_import_file", str(csv))
    page.click("input[type=submit]")
    # The job page refreshes itself while the worker previews the file.
    expect(page.locator(".job-state")).to_have_text("Preview ready", timeout=JOB_TIMEOUT_MS)
    expect(page.locator(".import-totals")).to_have_text(
        "50000 new, 0 changed, 0 unchanged, 0 with errors.", use_inner_text=True
    )
    expect(page.locator("table.import-preview tbody tr")).to_have_count(200)  # the first 200 rows shown
    expect(page.locator("table.import-preview tbody tr").first).to_contain_text("mobile:+13005560000")
    assert Customer.objects.count() == 0  # the preview writes nothing
    page.click("input[value='Confirm import']")
    try:
        expect(page.locator(".job-state")).to_have_text("Done", timeout=JOB_TIMEOUT_MS)
    except AssertionError:
        print(worker.read_text()[-5000:])  # what the worker said, for the failure report
        raise
    expect(page.locator(".job-message")).to_have_text("Imported.")
    expect(page.locator(".job-progress")).to_have_text("50000 of 50000 rows")
    # The viewport only: the full page holds the 200-row change table.
    page.screenshot(path=os.path.join(ARTIFACTS, "import-50000-done.png"))
    assert Customer.objects.count() == IMPORT_ROWS and CustomerPhone.objects.count() == IMPORT_ROWS
    imported_in = time.monotonic() - started

    call_command("seed_customers", "--count", str(SEEDED), "--batch-size", "50000", verbosity=0)
    assert Customer.objects.count() == 200_000
    page.goto(f"{admin_login}/admin/crm/customer/export/")
    page.select_option("#id_format", "csv")
    page.click("input[value='Export']")
    expect(page.locator(".job-state")).to_have_text("Done", timeout=JOB_TIMEOUT_MS)
    expect(page.locator(".job-message")).to_have_text("Exported 200000 customer(s).")
    page.screenshot(path=os.path.join(ARTIFACTS, "export-200000-done.png"))
    with page.expect_download() as download_info:
        page.click("p.download a")
    saved = tmp_path / "export.csv"
    download_info.value.save_as(saved)
    with open(saved, encoding="utf-8-sig") as fh:
        lines = sum(1 for _ in fh)
    assert lines == 200_001
    assert download_info.value.suggested_filename.startswith("customers-")
    print(f"import of {IMPORT_ROWS} rows (preview + apply) took {imported_in:.1f} s")
