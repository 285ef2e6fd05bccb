"""`make bench`: the product beside the tutorial's Flask peer and a framework-free ceiling.

Prepares PostgreSQL (1,000 and 1,000,000 customers) and SQLite (1,000,000) databases with
`seed_customers`, serves each target with gunicorn on loopback one after another, drives it
with the same wrk script, and writes bench/results/latest.json. Only ratios from one run count.
"""

import argparse
import datetime
import json
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work"
RESULTS = ROOT / "bench" / "results" / "latest.json"
# The tutorial's service lives in the shared folder beside the project's clone.
PEER_DIR = Path(os.environ.get("BENCH_PEER_DIR") or ROOT.parent / "shared" / "reference").resolve()
BIN = Path(sys.executable).parent
TOKEN = "bench-token-0123456789abcdefghijklmnopqrstuvwxyz"
SAMPLE = 2000  # numbers drawn from the whole table for the request mix


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(db_url: str, *args: str, capture: bool = False) -> str:
    env = {**os.environ, "DATABASE_URL": db_url, "DJANGO_SETTINGS_MODULE": "config.settings"}
    env.setdefault("DJANGO_SECRET_KEY", "bench-secret-key-not-for-production")
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, text=True, capture_output=capture
    )
    return result.stdout if capture else ""


def ensure_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        log("installing wrk (Debian package)")
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "wrk"],
            check=True,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        wrk = shutil.which("wrk")
    return wrk


def postgres_base_url() -> str:
    out = subprocess.run([str(ROOT / "scripts" / "postgres.sh"), "start"], check=True, text=True, capture_output=True)
    return out.stdout.strip().splitlines()[-1].rsplit("/", 1)[0]


def ensure_database(db_url: str, customers: int) -> None:
    """Migrate, seed N customers (idempotent), and install the bench token."""
    if db_url.startswith("postgres"):
        name = db_url.rsplit("/", 1)[1]
        base = db_url.rsplit("/", 1)[0] + "/postgres"
        exists = subprocess.run(
            ["psql", base, "-tAc", f"SELECT 1 FROM pg_database WHERE datname='{name}'"], text=True, capture_output=True
        ).stdout.strip()
        if exists != "1":
            subprocess.run(["psql", base, "-qc", f"CREATE DATABASE {name}"], check=True)
    manage(db_url, "migrate", "--noinput", "-v0")
    log(f"seeding {customers:,} customers into {db_url.split('@')[-1]}")
    started = time.monotonic()
    manage(db_url, "seed_customers", "--count", str(customers))
    log(f"seeded in {time.monotonic() - started:.1f} s")
    manage(db_url, "shell", "-v", "0", "-c", SETUP_TOKEN)


SETUP_TOKEN = f"""
from lookup.models import ApiToken, LookupEvent
from lookup.services import token_create
ApiToken.objects.filter(name="bench").delete()
token_create(name="bench", raw="{TOKEN}")
LookupEvent.objects.all().delete()
"""

SAMPLE_NUMBERS = f"""
import json, random
from crm.models import CustomerPhone
ids = list(CustomerPhone.objects.values_list("id", flat=True).order_by("id")[:1]) + \\
      list(CustomerPhone.objects.values_list("id", flat=True).order_by("-id")[:1])
lo, hi = ids[0], ids[1]
rng = random.Random(7)
picked = set(rng.randint(lo, hi) for _ in range({SAMPLE} * 2))
rows = CustomerPhone.objects.filter(id__in=picked).select_related("customer__tier")[:{SAMPLE}]
print(json.dumps({{
    str(p.number): {{
        "customerId": p.customer.customer_id, "firstName": p.customer.first_name,
        "lastName": p.customer.last_name, "tier": p.customer.tier.name,
        "lastInteractionDate": p.customer.last_interaction_date.isoformat() if p.customer.last_interaction_date else "",
    }} for p in rows
}}))
"""


def write_request_mix(numbers: list[str], path: Path) -> None:
    """Half hits spread over the table (E.164, national and tel: forms), half misses."""
    rng = random.Random(42)
    bodies = []
    for i, number in enumerate(numbers):
        national = f"({number[2:5]}) {number[5:8]}-{number[8:]}" if number.startswith("+1") else number
        form = (number, number, number, national, f"tel:{number}")[i % 5]
        bodies.append(json.dumps({"phoneNumber": form}))
        bodies.append(
            json.dumps({"phoneNumber": f"+1{rng.randint(200, 999)}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"})
        )
    path.write_text("\n".join(bodies) + "\n")


def worker_rss_mb(master_pid: int) -> float:
    """Largest resident set of the master's worker processes, in MB."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    rss = []
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss.append(int(line.split()[1]) / 1024)
    return round(max(rss), 1) if rss else 0.0


def wait_up(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return  # it answered
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def run_target(name, command, env, cwd, wrk, args, bodies: Path) -> dict:
    port = free_port()
    env = {**os.environ, **env, "PORT": str(port), "GUNICORN_BIND": f"127.0.0.1:{port}"}
    command = [c.replace("{port}", str(port)) for c in command]
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/api/customer/lookup"
    try:
        wait_up(url)
        row = drive(url, wrk, args, bodies)
        row["rss_mb"] = worker_rss_mb(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    log(f"{name}: {row}")
    return row


def drive(url: str, wrk: str, args, bodies: Path) -> dict:
    """The wrk script against one URL (2 s warm-up, then the measured run): rps, p50, p99, errors."""
    wrk_env = {**os.environ, "BENCH_TOKEN": TOKEN, "BENCH_BODIES": str(bodies)}
    script = str(ROOT / "bench" / "lookup.lua")
    base = [wrk, "-t2", f"-c{args.conns}", "-s", script, "--latency"]
    subprocess.run([*base, "-d2s", url], env=wrk_env, check=True, capture_output=True)  # warm-up
    out = subprocess.run([*base, f"-d{args.duration}s", url], env=wrk_env, check=True, capture_output=True, text=True)
    line = next(line for line in out.stdout.splitlines() if line.startswith("BENCH_JSON "))
    stats = json.loads(line.removeprefix("BENCH_JSON "))
    errors = stats["non2xx"] + stats["connect"] + stats["read"] + stats["write"] + stats["timeout"]
    return {
        "rps": round(stats["requests"] / (stats["duration_us"] / 1e6), 1),
        "p50_ms": round(stats["p50_us"] / 1000, 2),
        "p99_ms": round(stats["p99_us"] / 1000, 2),
        "errors": errors,
    }


CLUSTER_DIR = WORK / "cluster"
CLUSTER_RESULTS = ROOT / "bench" / "results" / "cluster.json"


def cluster_sh(*args: str, capture: bool = True) -> str:
    env = {
        **os.environ,
        "CLUSTER_DIR": str(CLUSTER_DIR),
        "CLUSTER_PORT": os.environ.get("CLUSTER_PORT", "57000"),
        "CLUSTER_EXTRA_ENV": "LOOKUP_THROTTLE_RATE=100000000/min",
    }
    out = subprocess.run(
        [str(ROOT / "scripts" / "cluster.sh"), *args], env=env, check=True, text=True, capture_output=capture
    )
    return out.stdout if capture else ""


def run_cluster(args, wrk: str) -> None:
    """--cluster: the peer, then the balancer over 1 and 2 instances (scripts/cluster.sh), same wrk script."""
    CLUSTER_DIR.mkdir(parents=True, exist_ok=True)
    CLUSTER_DIR.chmod(0o755)  # PostgreSQL runs as postgres and must reach its data folder
    log("scripts/cluster.sh up")
    up = cluster_sh("up")
    balancer = next(line.split(" ", 1)[1] for line in up.splitlines() if line.startswith("balancer: "))
    try:
        log(f"seeding {args.small:,} customers into the cluster's primary")
        cluster_sh("manage", "seed_customers", "--count", str(args.small))
        cluster_sh("manage", "shell", "-v", "0", "-c", SETUP_TOKEN)
        numbers = json.loads(cluster_sh("manage", "shell", "-v", "0", "-c", SAMPLE_NUMBERS))
        (WORK / "numbers.json").write_text(json.dumps(numbers))
        bodies = WORK / "bodies.txt"
        write_request_mix(list(numbers), bodies)
        rows = []
        if (PEER_DIR / "seed_flask.py").is_file():
            gunicorn = str(BIN / "gunicorn")
            command = [gunicorn, "-w", "2", "-b", "127.0.0.1:{port}", "--no-control-socket", "seed_flask:app"]
            peer = run_target("peer", command, {"LOOKUP_SECRET": TOKEN}, PEER_DIR, wrk, args, bodies)
            rows.append({"target": "peer (tutorial service, 2 workers)", **peer})
        url = f"{balancer}/api/customer/lookup"
        cluster_sh("drain", "2")  # HAProxy sends nothing new to instance 2
        one = drive(url, wrk, args, bodies)
        log(f"balancer, 1 instance: {one}")
        rows.append({"target": "balancer -> 1 instance", **one})
        cluster_sh("ready", "2")
        time.sleep(3)  # slowstart: instance 2 back at full weight
        two = drive(url, wrk, args, bodies)
        log(f"balancer, 2 instances: {two}")
        rows.append({"target": "balancer -> 2 instances", **two})
    finally:
        cluster_sh("down")
    report = {
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cores, {platform.python_version()}",
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": "make bench BENCH_ARGS=--cluster",
        "duration_s": args.duration,
        "conns": args.conns,
        "customers": args.small,
        "rows": rows,
    }
    CLUSTER_RESULTS.parent.mkdir(parents=True, exist_ok=True)
    CLUSTER_RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    head = f"{'target':<38} {'rps':>9} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6}"
    print(
        "\n".join(
            [head, "-" * len(head)]
            + [
                f"{r['target']:<38} {r['rps']:>9.1f} {r['p50_ms']:>7.2f} {r['p99_ms']:>7.2f} {r['errors']:>6}"
                for r in rows
            ]
        )
    )
    log(f"wrote {CLUSTER_RESULTS.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per target")
    parser.add_argument("--conns", type=int, default=8)
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--only", help="comma-separated subset of: peer,ceiling,pg-small,pg-big,sqlite-big")
    parser.add_argument("--cluster", action="store_true", help="the peer, then HAProxy over 1 and 2 instances")
    args = parser.parse_args()
    if args.cluster:
        WORK.mkdir(parents=True, exist_ok=True)
        run_cluster(args, ensure_wrk())
        return
    wanted = set(args.only.split(",")) if args.only else {"peer", "ceiling", "pg-small", "pg-big", "sqlite-big"}
    if "peer" in wanted and not (PEER_DIR / "seed_flask.py").is_file():
        sys.exit(f"bench: the peer {PEER_DIR / 'seed_flask.py'} is missing; set BENCH_PEER_DIR to its folder")
    WORK.mkdir(parents=True, exist_ok=True)
    wrk = ensure_wrk()

    pg = postgres_base_url()
    dbs = {
        "pg-small": ("postgresql", args.small, f"{pg}/crm_bench_{args.small}"),
        "pg-big": ("postgresql", args.big, f"{pg}/crm_bench_{args.big}"),
        "sqlite-big": ("sqlite", args.big, f"sqlite:///{WORK / f'bench-{args.big}.sqlite3'}"),
    }
    for key, (_, count, url) in dbs.items():
        if key in wanted:
            ensure_database(url, count)

    sample_db = dbs["pg-big"][2] if "pg-big" in wanted else next(url for k, (_, _, url) in dbs.items() if k in wanted)
    numbers = json.loads(manage(sample_db, "shell", "-v", "0", "-c", SAMPLE_NUMBERS, capture=True))
    (WORK / "numbers.json").write_text(json.dumps(numbers))
    bodies = WORK / "bodies.txt"
    write_request_mix(list(numbers), bodies)
    log(f"request mix: {len(numbers)} hits in 3 formats + {len(numbers)} misses")

    gunicorn = str(BIN / "gunicorn")
    product_env = {
        "DJANGO_SECRET_KEY": "bench-secret-key-not-for-production",
        "DJANGO_ENV_FILE": os.devnull,
        # The per-token throttle still runs on every request, but one token sending
        # 100,000 lookups a minute is the benchmark, not abuse: it must not answer 429s.
        "LOOKUP_THROTTLE_RATE": "100000000/min",
    }
    targets = {
        "peer": (
            "peer",
            None,
            0,
            [gunicorn, "-w", "2", "-b", "127.0.0.1:{port}", "--no-control-socket", "seed_flask:app"],
            {"LOOKUP_SECRET": TOKEN},
            PEER_DIR,
        ),
        "ceiling": (
            "ceiling",
            None,
            0,
            [gunicorn, "-w", "2", "-b", "127.0.0.1:{port}", "--no-control-socket", "bench.ceiling:app"],
            {"LOOKUP_SECRET": TOKEN, "BENCH_NUMBERS": str(WORK / "numbers.json")},
            ROOT,
        ),
    }
    for key, (db, count, url) in dbs.items():
        targets[key] = (
            "product",
            db,
            count,
            [gunicorn, "--config", "config/gunicorn.conf.py", "config.wsgi"],
            {**product_env, "DATABASE_URL": url},
            ROOT,
        )

    rows = []
    for key in ["peer", "ceiling", "pg-small", "pg-big", "sqlite-big"]:
        if key not in wanted:
            continue
        app, db, count, command, env, cwd = targets[key]
        result = run_target(key, command, env, cwd, wrk, args, bodies)
        rows.append({"app": app, "db": db, "customers": count or None, "conns": args.conns, **result})

    peer = next((r["rps"] for r in rows if r["app"] == "peer"), None)
    for row in rows:
        row["ratio_to_peer"] = round(row["rps"] / peer, 3) if peer else None
        if row["customers"] is None:
            row["customers"] = len(numbers) if row["app"] == "ceiling" else 2
    report = {
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cores, {platform.python_version()}",
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": "make bench",
        "duration_s": args.duration,
        "rows": rows,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(table(rows))
    log(f"wrote {RESULTS.relative_to(ROOT)}")


def table(rows: list[dict]) -> str:
    head = f"{'app':<8} {'db':<11} {'customers':>10} {'rps':>9} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} {'RSS MB':>7} {'x peer':>7}"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r['app']:<8} {r['db'] or '-':<11} {r['customers']:>10,} {r['rps']:>9.1f} {r['p50_ms']:>7.2f} "
            f"{r['p99_ms']:>7.2f} {r['errors']:>6} {r['rss_mb']:>7.1f} {r['ratio_to_peer'] or 0:>7.3f}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
