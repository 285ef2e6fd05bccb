"""Benchmark of the import/export jobs at scale: rows/s and the worker's peak RSS (not part of `make test`).

    DATABASE_URL=... python bench/jobs_bench.py --customers 1000000 --import-rows 100000

Seeds the customers (seed_customers, skipped when they exist), then runs each job step in a fresh
child process, exactly the code the db_worker runs (crm.jobs.execute): export CSV, export XLSX,
import preview and import apply of a CSV of new customers with one phone each. Each child reports
its rows, seconds and peak RSS (getrusage ru_maxrss), so one step's memory does not hide another's.
Results go to stdout and, with --out, to a JSON file.
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LAST_BENCH_ID = (
    "from crm.models import Customer; "
    "c = Customer.objects.filter(customer_id__startswith='BENCH-').order_by('-customer_id').first(); "
    "print(c.customer_id.split('-')[1] if c else '')"
)
TARGETS = {"export-csv": 50_000, "import-preview": 5_000, "import-apply": 5_000}
RSS_TARGET_MB = 300


def child(step: str, path: str) -> None:
    """Run one job step in this process and print {rows, seconds, rss_mb} as JSON."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from crm import jobs
    from crm.models import Job

    user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"is_staff": True})
    if step.startswith("export"):
        job = Job.objects.create(
            kind=Job.Kind.EXPORT, step="export", created_by=user, options={"format": step.split("-")[1]}
        )
    else:
        job = Job.objects.create(kind=Job.Kind.IMPORT, step=step.split("-")[1], created_by=user)
        target = jobs.job_dir(job) / "upload"
        shutil.copyfile(path, target)
        job.upload, job.filename = str(target.relative_to(jobs.settings.MEDIA_ROOT)), Path(path).name
        job.save()
    server_started = server_cpu()
    started, cpu_started = time.perf_counter(), time.process_time()
    jobs.execute(job)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    server = server_cpu()
    job.refresh_from_db()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {"step": step, "state": job.state, "rows": job.rows_done, "seconds": round(seconds, 2)}
    result |= {"rows_per_s": round(job.rows_done / seconds), "peak_rss_mb": round(rss_mb)}
    # On a shared machine wall time includes waiting for a core; CPU time is this process's own work.
    result |= {"cpu_seconds": round(cpu, 2), "rows_per_cpu_s": round(job.rows_done / cpu) if cpu else None}
    if server is not None and server_started is not None:
        # PostgreSQL's work for this worker: with the worker's, what the job costs on an idle machine.
        server -= server_started
        result |= {
            "server_cpu_seconds": round(server, 2),
            "rows_per_total_cpu_s": round(job.rows_done / (cpu + server)),
        }
    if job.state not in ("done", "previewed"):
        result["message"] = job.message
        result["errors"] = job.errors[:3]
    print(json.dumps(result))
    jobs.delete_files(job)


def server_cpu() -> float | None:
    """CPU seconds of this connection's PostgreSQL backend, when the server runs on this machine."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # a server on another machine (or another user's, unreadable)
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def run_child(step: str, path: str = "") -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", step, "--file", path],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"{step} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def make_import_file(rows: int, first: int) -> str:
    """A CSV of new customers BENCH-<n>, one phone each (+1 NPA 556 LLLL: not a seeded number)."""
    fh = tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, newline="", encoding="utf-8")  # noqa: SIM115
    with fh:
        fh.write("customer_id,first_name,last_name,tier,last_interaction_date,notes,phones\n")
        for n in range(first, first + rows):
            area, line = divmod(n, 10_000)
            fh.write(f"BENCH-{n:07d},Ann,Lee{n % 97},Silver,2024-02-03,,mobile:+1{200 + area}556{line:04d}\n")
    return fh.name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--out", help="write the results as JSON here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--file", default="", help=argparse.SUPPRESS)
    parser.add_argument("--skip-seed", action="store_true")
    parser.add_argument("--steps", default="export-csv,export-xlsx,import-preview,import-apply")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.file)
        return
    env_db = os.environ.get("DATABASE_URL", "sqlite:///db.sqlite3")
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True)
    if not args.skip_seed:
        started = time.perf_counter()
        subprocess.run(
            [*manage, "seed_customers", "--count", str(args.customers), "--batch-size", "100000"], cwd=ROOT, check=True
        )
        print(f"seed: {time.perf_counter() - started:.1f} s", flush=True)
    # New customers each run: IDs and numbers after any earlier run's (BENCH-<n>).
    last = subprocess.run(
        [*manage, "shell", "-v", "0", "-c", LAST_BENCH_ID], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()
    first = int(last) + 1 if last else 0
    if first + args.import_rows > 7_000_000:
        raise SystemExit("BENCH-<n> numbers are used up: delete the BENCH- customers (or use a new database).")
    path = make_import_file(args.import_rows, first)
    results = {"database": env_db.split(":", 1)[0], "customers": args.customers, "steps": []}
    try:
        for step in args.steps.split(","):
            result = run_child(step, path if step.startswith("import") else "")
            result["target_rows_per_s"] = TARGETS.get(step)
            result["rss_target_mb"] = RSS_TARGET_MB
            results["steps"].append(result)
            print(json.dumps(result), flush=True)
    finally:
        os.unlink(path)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
