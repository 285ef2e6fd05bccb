"""Imports and exports through the admin as jobs: pages, permissions, the worker, history, counts."""

import time
from http import HTTPStatus
from pathlib import Path

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from crm.models import Customer, CustomerPhone, Job
from crm.paginators import LargeTablePaginator
from tests import servers
from tests.factories import CustomerFactory, CustomerPhoneFactory, TierFactory
from tests.servers import ROOT

pytestmark = pytest.mark.django_db

SAMPLE = ROOT / "fixtures" / "customers-sample.csv"
HEADER = "customer_id,first_name,last_name,tier,last_interaction_date,notes,phones"
CHANGELIST = "admin:crm_customer_changelist"


def upload(client, content: bytes, name: str = "customers.csv"):
    return client.post(
        reverse("admin:crm_customer_import"), {"import_file": SimpleUploadedFile(name, content)}, follow=True
    )


def assert_no_internals(response, settings) -> None:
    """No traceback, exception name or server path ever reaches a page."""
    page = response.content.decode()
    for leak in ("Traceback", 'File "', "Error:", str(ROOT), str(settings.MEDIA_ROOT), "site-packages"):
        assert leak not in page, leak


def test_import_preview_shows_changes_then_confirm_imports(admin_client, settings):
    call_command("loaddata", "demo", verbosity=0)
    response = upload(admin_client, SAMPLE.read_bytes(), "customers-sample.csv")
    assert response.status_code == HTTPStatus.OK
    job = response.context["job"]
    assert (job.state, job.totals) == ("previewed", {"new": 5, "update": 0, "skip": 0, "invalid": 0})
    page = response.content.decode()
    assert "What the import will change" in page
    assert "<del>(none)</del> → <ins>mobile:+15550100101; work:+15550100102</ins>" in page
    assert 'value="Confirm import"' in page
    assert not Customer.objects.filter(customer_id="CUST-101").exists()  # the preview writes nothing
    assert_no_internals(response, settings)

    done = admin_client.post(reverse("admin:crm_job_confirm", args=[job.pk]), follow=True)
    assert done.status_code == HTTPStatus.OK
    job.refresh_from_db()
    assert (job.state, job.message) == ("done", "Imported.")
    assert Customer.objects.filter(customer_id__startswith="CUST-10").count() == 5
    assert "Changes made" in done.content.decode()
    again = upload(admin_client, SAMPLE.read_bytes())
    assert again.context["job"].totals == {"new": 0, "update": 0, "skip": 5, "invalid": 0}
    assert "Nothing to import: every row is unchanged." in again.content.decode()


def test_preview_with_an_emptied_phones_cell_is_unchanged_and_phones_stay(admin_client):
    call_command("loaddata", "demo", verbosity=0)
    job = upload(admin_client, SAMPLE.read_bytes()).context["job"]
    admin_client.post(reverse("admin:crm_job_confirm", args=[job.pk]))
    row = f"{HEADER}\nCUST-101,Carol,Diaz,Gold,2024-02-03,Prefers email follow-up,\n".encode()
    response = upload(admin_client, row)
    assert response.context["job"].totals == {"new": 0, "update": 0, "skip": 1, "invalid": 0}
    assert CustomerPhone.objects.filter(customer__customer_id="CUST-101").count() == 2


def test_none_marker_preview_shows_the_phones_removed(admin_client, alice):
    response = upload(admin_client, f"{HEADER}\nCUST-001,,,,,,none\n".encode())
    page = response.content.decode()
    assert "<del>mobile:+15551234567</del> → <ins>(none)</ins>" in page
    admin_client.post(reverse("admin:crm_job_confirm", args=[response.context["job"].pk]))
    assert not CustomerPhone.objects.filter(customer=alice).exists()


def test_preview_with_row_errors_offers_no_confirm(admin_client, alice, settings):
    content = f"{HEADER}\nCUST-601,Lea,Ok,Gold,,,+15550100601\nCUST-602,Max,Bad,Gold,,,12345\n".encode()
    response = upload(admin_client, content)
    job = response.context["job"]
    assert job.state == "failed"
    assert job.errors == [
        {
            "row": 3,
            "column": "phones",
            "message": "'12345' is not a possible phone number. Use e.g. mobile:+15551234567; work:(555) 987-6543.",
        }
    ]
    page = response.content.decode()
    assert "1 row error(s). Fix these rows and upload the file again." in page
    assert "<td>3</td><td>phones</td><td>&#x27;12345&#x27; is not a possible phone number." in page
    assert 'value="Confirm import"' not in page
    assert admin_client.post(reverse("admin:crm_job_confirm", args=[job.pk])).status_code == HTTPStatus.FOUND
    assert not Customer.objects.filter(customer_id__in=["CUST-601", "CUST-602"]).exists()
    assert_no_internals(response, settings)


def test_confirm_rolls_back_when_a_row_fails_after_preview(admin_client, alice):
    content = f"{HEADER}\nCUST-701,Ned,Ok,Gold,,,+15550100701\nCUST-702,Ola,Ok,Gold,,,+15550100702\n".encode()
    job = upload(admin_client, content).context["job"]
    CustomerPhoneFactory(customer=alice, number="+15550100702")  # taken between preview and confirm
    response = admin_client.post(reverse("admin:crm_job_confirm", args=[job.pk]), follow=True)
    job.refresh_from_db()
    assert (job.state, job.message) == ("failed", "1 row error(s). Nothing was imported.")
    assert "+15550100702 already belongs to customer CUST-001." in response.content.decode()
    assert not Customer.objects.filter(customer_id__in=["CUST-701", "CUST-702"]).exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"id;name\n1;Ann\n", "The header row does not match (missing: customer_id, first_name, last_name, tier;"),
        ("customer_id;first_name;last_name;tier\nCUST-1;Zoë;Ü;Gold\n".encode("cp1252"), None),
        ("customer_id\tfirst_name\tlast_name\ttier\nCUST-1\tZoë\tÜ\tGold\n".encode("utf-16"), None),
        (b"%PDF-1.7 ...", "This file is not a CSV or XLSX spreadsheet: it looks like a PDF document."),
        (b"PK\x03\x04 not really", "This file is not a readable XLSX workbook (or a CSV): save it from Excel again."),
        (f"{HEADER}\nCUST-1,A,B,Gold,,{'x' * 10_050},\n".encode(), "Row 2: a cell is longer than the limit of 10,000"),
    ],
)
def test_every_file_gets_a_clear_answer_on_the_page(admin_client, alice, settings, content, message):
    response = upload(admin_client, content)
    assert response.status_code == HTTPStatus.OK
    job = response.context["job"]
    if message is None:
        assert (job.state, job.totals["new"]) == ("previewed", 1)
    else:
        assert job.state == "failed" and job.message.startswith(message)
        assert "errornote" in response.content.decode()
    assert_no_internals(response, settings)


def test_oversize_upload_is_refused_on_the_form(admin_client, settings):
    settings.CRM_IMPORT_MAX_FILE_MB = 0
    response = upload(admin_client, b"customer_id\n")
    assert response.status_code == HTTPStatus.OK
    assert response.context["form"].errors == {
        "import_file": ["The file is 0.0 MB; the limit is 0 MB. Split it into smaller files."]
    }
    assert not Job.objects.exists()


def test_unexpected_failure_is_a_sentence_and_a_log_line(admin_client, alice, settings, monkeypatch, caplog):
    def boom(*args, **kwargs):
        raise RuntimeError("/secret/path exploded")

    monkeypatch.setattr("crm.jobs.run_import", boom)
    response = upload(admin_client, SAMPLE.read_bytes())
    job = response.context["job"]
    assert job.message == f"The job failed unexpectedly; the server log has the details (job #{job.pk})."
    assert "/secret/path" not in response.content.decode()
    assert "/secret/path exploded" in caplog.text


def test_large_file_is_queued_for_the_worker(admin_client, settings, django_capture_on_commit_callbacks):
    call_command("loaddata", "demo", verbosity=0)
    settings.CRM_INLINE_IMPORT_BYTES = 10
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = upload(admin_client, SAMPLE.read_bytes())
    job = response.context["job"]
    assert job.state == "queued" and len(callbacks) == 1
    page = response.content.decode()
    assert '<meta http-equiv="refresh" content="1">' in page
    assert "This page refreshes itself until the job is finished." in page
    callbacks[0]()  # the immediate backend runs the task at enqueue
    job.refresh_from_db()
    assert job.state == "previewed"


def test_export_all_as_xlsx_and_download(admin_client, alice, bob, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("admin:crm_customer_export"), {"format": "xlsx"}, follow=True)
    job = Job.objects.get()
    assert (job.state, job.rows_done, job.options) == ("done", 2, {"format": "xlsx"})
    download = admin_client.get(reverse("admin:crm_job_download", args=[job.pk]))
    assert download.status_code == HTTPStatus.OK
    assert download["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert download["Content-Disposition"] == f'attachment; filename="{job.filename}"'
    assert b"".join(download.streaming_content)[:4] == b"PK\x03\x04"
    assert response.status_code == HTTPStatus.OK


def test_export_select_across_keeps_the_changelist_filter(admin_client, alice, bob, django_capture_on_commit_callbacks):
    url = reverse(CHANGELIST) + f"?tier__id__exact={bob.tier_id}"
    data = {"action": "export_selected_csv", "select_across": "1", ACTION_CHECKBOX_NAME: [bob.pk]}
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(url, data)
    job = Job.objects.get()
    assert job.options == {"q": "", "tier": str(bob.tier_id), "format": "csv"}
    assert (job.state, job.rows_done) == ("done", 1)


def test_download_needs_the_customer_view_permission(client, admin_client, alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("admin:crm_customer_export"), {"format": "csv"})
    job = Job.objects.get()
    url = reverse("admin:crm_job_download", args=[job.pk])
    staff = User.objects.create_user("nobody", password="x", is_staff=True)
    client.force_login(staff)
    assert client.get(url).status_code == HTTPStatus.FORBIDDEN
    assert client.get(reverse("admin:crm_job_change", args=[job.pk])).status_code == HTTPStatus.FORBIDDEN
    staff.user_permissions.add(Permission.objects.get(codename="view_customer"))
    client.force_login(User.objects.get(pk=staff.pk))
    assert client.get(url).status_code == HTTPStatus.OK
    client.logout()
    assert client.get(url).status_code == HTTPStatus.FOUND  # to the login page
    assert settings_media_not_served(client, job)


def settings_media_not_served(client, job) -> bool:
    """The media root has no URL: the file exists only behind the download view."""
    return client.get(f"/media/{job.result}").status_code == HTTPStatus.NOT_FOUND


def test_import_needs_add_and_change_permissions(client, alice):
    staff = User.objects.create_user("viewer", password="x", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_customer"))
    client.force_login(staff)
    assert client.get(reverse("admin:crm_customer_import")).status_code == HTTPStatus.FORBIDDEN
    assert client.get(reverse("admin:crm_customer_export")).status_code == HTTPStatus.OK


def test_job_list_shows_state_and_progress(admin_client, alice):
    upload(admin_client, SAMPLE.read_bytes())
    response = admin_client.get(reverse("admin:crm_job_changelist"))
    page = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert "Preview ready" in page and "5 of 5 rows" in page


# -- edit history ----------------------------------------------------------------------


def test_admin_edit_records_who_and_before_after_on_the_customer_page(admin_client, admin_user, alice):
    silver = TierFactory(name="Silver", rank=10)
    phone = alice.phones.get()
    data = {
        "customer_id": "CUST-001",
        "first_name": "Alicia",
        "last_name": "Smith",
        "tier": silver.pk,
        "last_interaction_date": "2023-10-15",
        "notes": "a note",
        "phones-TOTAL_FORMS": "2",
        "phones-INITIAL_FORMS": "1",
        "phones-0-id": phone.pk,
        "phones-0-customer": alice.pk,
        "phones-0-number": "+15551234567",
        "phones-0-label": "mobile",
        "phones-1-number": "+15550100999",
        "phones-1-label": "work",
    }
    response = admin_client.post(reverse("admin:crm_customer_change", args=[alice.pk]), data)
    assert response.status_code == HTTPStatus.FOUND, response.context["adminform"].form.errors
    page = admin_client.get(reverse("admin:crm_customer_change", args=[alice.pk])).content.decode()
    assert "<h2>Edit history</h2>" in page
    changes = page[page.index('<table class="edit-history">') :]
    entry = changes[: changes.index("</tr>", changes.index("<tbody>"))]
    assert "<td>admin</td>" in entry and "<td>Admin</td>" in entry
    assert "<strong>first name</strong>: <del>Alice</del> → <ins>Alicia</ins>" in entry
    assert "<strong>tier</strong>: <del>Gold</del> → <ins>Silver</ins>" in entry
    assert "<strong>notes</strong>: <em>(none)</em> → <ins>a note</ins>" in entry
    assert "<strong>phone</strong>: <em>(none)</em> → <ins>work:+15550100999</ins>" in entry


def test_bulk_tier_change_records_one_entry_per_customer(admin_client, admin_user, alice, bob):
    bronze = TierFactory(name="Bronze", rank=0)
    data = {"action": "change_tier", "apply": "1", "tier": bronze.pk, ACTION_CHECKBOX_NAME: [alice.pk, bob.pk]}
    admin_client.post(reverse(CHANGELIST), data)
    records = Customer.history.filter(history_change_reason="Bulk action: change tier").order_by("customer_id")
    assert [(r.customer_id, r.tier_id, r.history_user) for r in records] == [
        ("CUST-001", bronze.pk, admin_user),
        ("CUST-002", bronze.pk, admin_user),
    ]
    page = admin_client.get(reverse("admin:crm_customer_change", args=[bob.pk])).content.decode()
    assert "<td>Bulk action: change tier</td>" in page
    assert "<strong>tier</strong>: <del>Silver</del> → <ins>Bronze</ins>" in page


def test_import_history_is_one_entry_per_customer_on_the_page(admin_client, alice):
    content = f"{HEADER}\nCUST-001,Alicia,,,,,work:+15551234567; home:+15550100601\n".encode()
    job = upload(admin_client, content).context["job"]
    admin_client.post(reverse("admin:crm_job_confirm", args=[job.pk]))
    page = admin_client.get(reverse("admin:crm_customer_change", args=[alice.pk])).content.decode()
    assert page.count(f"<td>Import job #{job.pk} (customers.csv)</td>") == 1
    assert "<strong>phone</strong>: <del>mobile:+15551234567</del> → <ins>work:+15551234567</ins>" in page
    assert "<strong>phone</strong>: <em>(none)</em> → <ins>home:+15550100601</ins>" in page


def test_history_is_hidden_without_the_history_permission(client, alice):
    staff = User.objects.create_user("sam", password="x", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_customer"))
    client.force_login(staff)
    page = client.get(reverse("admin:crm_customer_change", args=[alice.pk])).content.decode()
    assert "Edit history" not in page
    staff.user_permissions.add(Permission.objects.get(codename="view_historicalcustomer"))
    client.force_login(User.objects.get(pk=staff.pk))
    assert "<h2>Edit history</h2>" in client.get(reverse("admin:crm_customer_change", args=[alice.pk])).content.decode()


# -- customer IDs and counts ------------------------------------------------------------


def test_admin_form_normalises_and_validates_customer_ids(admin_client, alice):
    form = {
        "first_name": "A",
        "last_name": "B",
        "tier": alice.tier_id,
        "phones-TOTAL_FORMS": "0",
        "phones-INITIAL_FORMS": "0",
    }
    response = admin_client.post(reverse("admin:crm_customer_add"), {**form, "customer_id": " cust-001 "})
    assert response.context["adminform"].form.errors == {
        "customer_id": ["Customer with this Customer ID already exists."]
    }
    response = admin_client.post(reverse("admin:crm_customer_add"), {**form, "customer_id": "CUST X9 <b>"})
    assert response.context["adminform"].form.errors == {
        "customer_id": [
            "Enter a valid customer ID: 1-32 letters, digits, '.', '_' or '-', starting with a letter or digit, "
            "e.g. CUST-001. Stored upper-case; spaces around it are removed."
        ]
    }
    admin_client.post(reverse("admin:crm_customer_add"), {**form, "customer_id": " cust-003 "})
    assert Customer.objects.filter(customer_id="CUST-003").exists()


def test_orm_writes_normalise_and_the_database_refuses_lower_case_ids(alice):
    from django.db import IntegrityError, connection, transaction

    Customer.objects.filter(pk=alice.pk).update(customer_id=" cust-010 ")
    assert Customer.objects.get(pk=alice.pk).customer_id == "CUST-010"
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE crm_customer SET customer_id = 'cust-010' WHERE id = %s", [alice.pk])


@pytest.mark.django_db(transaction=True)
def test_migration_normalises_ids_and_refuses_collisions():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    def migrate(target):
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate([("crm", target)])

    migrate("0003_support_staff_group")
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO crm_tier (name, description, rank) VALUES ('Gold', '', 1)")
        cursor.execute("SELECT id FROM crm_tier")
        tier = cursor.fetchone()[0]
        for cid in (" cust-001 ", "CUST-002"):
            cursor.execute(
                "INSERT INTO crm_customer (customer_id, first_name, last_name, tier_id, notes, created_at, updated_at)"
                " VALUES (%s, 'A', 'B', %s, '', '2024-01-01', '2024-01-01')",
                [cid, tier],
            )
    try:
        migrate("0004_normalise_customer_ids")
        with connection.cursor() as cursor:
            cursor.execute("SELECT customer_id FROM crm_customer ORDER BY 1")
            assert cursor.fetchall() == [("CUST-001",), ("CUST-002",)]
        migrate("0003_support_staff_group")
        with connection.cursor() as cursor:
            cursor.execute("UPDATE crm_customer SET customer_id = 'cust-002 ' WHERE customer_id = 'CUST-001'")
        with pytest.raises(RuntimeError) as error:
            migrate("0004_normalise_customer_ids")
        assert str(error.value) == (
            "Cannot normalise customer IDs (trimmed, upper-case): these would become the same ID: "
            "'CUST-002' and 'cust-002 '. Rename or merge one customer of each pair in the admin, then run migrate again."
        )
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM crm_customer")
        migrate("0005_customer_id_history_jobs")
        call_command("migrate", verbosity=0)


def test_select_all_names_the_capped_count(admin_client, alice, bob, monkeypatch):
    monkeypatch.setattr(LargeTablePaginator, "CAP", 1)
    # No planner estimate (a filtered list, or a table never analyzed): on PostgreSQL an earlier
    # test's rows may have left pg_class.reltuples above the cap, which would take the "about" path.
    monkeypatch.setattr(LargeTablePaginator, "_estimate", staticmethod(lambda queryset: None))
    monkeypatch.setattr("crm.admin.CustomerAdmin.list_per_page", 1)
    page = admin_client.get(reverse(CHANGELIST)).content.decode()
    assert "Select all matching customers (more than 1)" in page
    assert "All matching customers (more than 1) selected" in page
    assert "Select all 2 customers" not in page


def test_select_all_names_the_exact_count(admin_client, alice, bob, monkeypatch):
    monkeypatch.setattr(LargeTablePaginator, "_estimate", staticmethod(lambda queryset: None))  # as above
    monkeypatch.setattr("crm.admin.CustomerAdmin.list_per_page", 1)
    page = admin_client.get(reverse(CHANGELIST)).content.decode()
    assert "Select all 2 customers" in page and "All 2 selected" in page


def test_select_all_says_about_for_an_estimate(admin_client, alice, bob, monkeypatch):
    monkeypatch.setattr(LargeTablePaginator, "CAP", 1)
    monkeypatch.setattr(LargeTablePaginator, "_estimate", staticmethod(lambda queryset: 20_018))
    monkeypatch.setattr("crm.admin.CustomerAdmin.list_per_page", 1)
    page = admin_client.get(reverse(CHANGELIST)).content.decode()
    assert "Select all (about 20018) customers" in page


def test_change_tier_refuses_more_than_the_limit_with_a_message(admin_client, alice, bob, monkeypatch):
    monkeypatch.setattr("crm.admin.CHANGE_TIER_MAX", 1)
    data = {"action": "change_tier", "select_across": "1", ACTION_CHECKBOX_NAME: [alice.pk]}
    response = admin_client.post(reverse(CHANGELIST), data, follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        "2 customers are selected; the tier of at most 1 changes at once. "
        "Narrow the selection (filter or search), or import a file with the new tiers."
    ]


# -- the real worker ------------------------------------------------------------------


@pytest.mark.server
@pytest.mark.django_db(transaction=True)
def test_db_worker_runs_an_export_job(admin_client, alice, settings, tmp_path):
    """`manage.py jobs_worker` (what `make run` starts) picks up the job the admin queued."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    for n in range(30):
        CustomerPhoneFactory(customer=CustomerFactory(tier=alice.tier), number=f"+1555030{n:04d}")
    with servers.jobs_worker(settings.MEDIA_ROOT, tmp_path / "worker.log", interval="0.1") as worker:
        response = admin_client.post(reverse("admin:crm_customer_export"), {"format": "csv"}, follow=True)
        job = response.context["job"]
        assert job.state == "queued"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if not job.is_active:
                break
            time.sleep(0.2)
        assert (job.state, job.rows_done) == ("done", 31), (tmp_path / "worker.log").read_text()
        download = admin_client.get(reverse("admin:crm_job_download", args=[job.pk]))
        lines = b"".join(download.streaming_content).decode("utf-8-sig").splitlines()
        assert len(lines) == 32 and lines[0] == HEADER
    assert worker.returncode == 0 or worker.returncode == -15
    assert Path(settings.MEDIA_ROOT, job.result).is_file()


def test_jobs_worker_carries_on_after_a_locked_database(monkeypatch, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    from django.db import OperationalError
    from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

    calls = []

    def handle(self, *args, **options):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("database is locked")
        return None

    monkeypatch.setattr(DbWorkerCommand, "handle", handle)
    monkeypatch.setattr("crm.management.commands.jobs_worker.time.sleep", lambda seconds: None)
    call_command("jobs_worker", "--batch")
    assert len(calls) == 2


def test_jobs_worker_lets_other_database_errors_end_it(monkeypatch, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    from django.db import OperationalError
    from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

    def handle(self, *args, **options):
        raise OperationalError("no such table: django_tasks_database_dbtaskresult")

    monkeypatch.setattr(DbWorkerCommand, "handle", handle)
    with pytest.raises(OperationalError):
        call_command("jobs_worker", "--batch")
