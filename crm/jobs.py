"""Background jobs for imports and exports (django-tasks; `python manage.py jobs_worker` runs them).

A Job row holds what the admin shows: state, progress, totals, per-row errors, changes and the
file. Small files run the same code inside the request (crm.admin decides); large ones are
enqueued, so no click ever waits longer than gunicorn's timeout.
"""

import json
import logging
import os
import shutil
from pathlib import Path

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from crm import exports
from crm.imports import run_import
from crm.models import Customer, Job
from crm.selectors import customer_search_filter
from crm.tables import ImportFileError, open_table

logger = logging.getLogger(__name__)


def job_dir(job: Job) -> Path:
    path = Path(settings.MEDIA_ROOT) / "jobs" / str(job.pk)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def media_path(relative: str) -> Path:
    return Path(settings.MEDIA_ROOT) / relative


def save_upload(job: Job, uploaded) -> None:
    """Store an uploaded file under the job's folder (never under its client-chosen name)."""
    target = job_dir(job) / "upload"
    with open(target, "wb") as fh:
        os.chmod(target, 0o600)
        for chunk in uploaded.chunks():
            fh.write(chunk)
    job.upload = str(target.relative_to(settings.MEDIA_ROOT))
    job.filename = os.path.basename(uploaded.name or "upload")[:255]
    job.save(update_fields=["upload", "filename"])


def write_progress(job: Job, rows_done: int) -> None:
    """Progress goes to a small file, not the database: an import's transaction would hide it."""
    target = job_dir(job) / "progress.json"
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps({"rows_done": rows_done}))
    os.replace(tmp, target)


def read_progress(job: Job) -> int:
    try:
        return int(json.loads((media_path(f"jobs/{job.pk}") / "progress.json").read_text())["rows_done"])
    except (OSError, ValueError, KeyError):
        return job.rows_done


@task()
def run_job(job_id: int) -> None:
    """Run a job's next step: preview or apply an import, or write an export."""
    execute(Job.objects.get(pk=job_id))


def execute(job: Job) -> None:
    """Run the job's step now, in this process; any failure ends as a message on the job page."""
    try:
        job.state, job.started_at, job.rows_done = Job.State.RUNNING, timezone.now(), 0
        job.save(update_fields=["state", "started_at", "rows_done"])
        if job.step == "export":
            _export(job)
        else:
            _import(job, apply=job.step == "apply")
    except ImportFileError as error:
        _finish(job, Job.State.FAILED, message=str(error))
    except Exception:
        # The traceback belongs in the log; the page gets a sentence and the job number.
        logger.exception("job %s (%s %s) failed", job.pk, job.kind, job.step)
        _finish(
            job,
            Job.State.FAILED,
            message=f"The job failed unexpectedly; the server log has the details (job #{job.pk}).",
        )


def _finish(job: Job, state: str, **fields) -> None:
    for name, value in fields.items():
        setattr(job, name, value)
    job.state, job.finished_at = state, timezone.now()
    job.save()


def _import(job: Job, *, apply: bool) -> None:
    table = open_table(str(media_path(job.upload)))
    job.rows_total = table.estimated_rows
    job.options = {**job.options, "file_kind": table.kind}
    job.save(update_fields=["rows_total", "options"])
    outcome = run_import(
        table,
        apply=apply,
        user=job.created_by,
        reason=f"Import job #{job.pk} ({job.filename})",
        progress=lambda n: write_progress(job, n),
    )
    fields = {
        "totals": outcome.totals,
        "errors": outcome.errors,
        "error_count": outcome.error_count,
        "rows_done": outcome.rows,
        "rows_total": outcome.rows,
    }
    if not apply:
        fields["changes"] = outcome.changes
    if outcome.error_count:
        what = "Nothing was imported" if apply else "Fix these rows and upload the file again"
        _finish(job, Job.State.FAILED, message=f"{outcome.error_count} row error(s). {what}.", **fields)
    elif apply:
        _finish(job, Job.State.DONE, message="Imported.", **fields)
    else:
        _finish(job, Job.State.PREVIEWED, **fields)


def export_queryset(options: dict):
    """The customers an export job covers: all, some pks, or a changelist's search and tier filter."""
    queryset = Customer.objects.all()
    if options.get("pks") is not None:
        return queryset.filter(pk__in=options["pks"])
    term = (options.get("q") or "").strip()
    if term:
        queryset = queryset.filter(customer_search_filter(term))
    if options.get("tier"):
        queryset = queryset.filter(Q(tier_id=options["tier"]))
    return queryset


def _export(job: Job) -> None:
    fmt = job.options.get("format", "csv")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    name = f"customers-{stamp}.{fmt}"
    target = job_dir(job) / name
    rows = exports.iter_rows(export_queryset(job.options), progress=lambda n: write_progress(job, n))
    count = (exports.write_xlsx if fmt == "xlsx" else exports.write_csv)(str(target), rows)
    os.chmod(target, 0o600)
    _finish(
        job,
        Job.State.DONE,
        result=str(target.relative_to(settings.MEDIA_ROOT)),
        filename=name,
        rows_done=count,
        rows_total=count,
        totals={"exported": count},
        message=f"Exported {count} customer(s).",
    )


def delete_files(job: Job) -> None:
    shutil.rmtree(Path(settings.MEDIA_ROOT) / "jobs" / str(job.pk), ignore_errors=True)
