"""CPU cost of one lookup through the whole WSGI stack, in-process: no network, no wrk.

Usage: DATABASE_URL=... python bench/profile_lookup.py [--requests N] [--profile]
Needs a database with the bench token (bench/run.py creates it) or runs `loaddata demo`
and creates one. Reports microseconds of CPU per request; --profile prints pyinstrument's tree.
"""

import argparse
import io
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-secret-key-not-for-production")

TOKEN = "bench-token-0123456789abcdefghijklmnopqrstuvwxyz"


def environ(body: bytes) -> dict:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/customer/lookup",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "HTTP_HOST": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_AUTHORIZATION": f"Bearer {TOKEN}",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "REMOTE_ADDR": "127.0.0.1",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--number", default="+15551234567")
    args = parser.parse_args()

    from django.core.wsgi import get_wsgi_application

    app = get_wsgi_application()
    from lookup.models import ApiToken
    from lookup.services import token_create

    if not ApiToken.objects.filter(name="bench").exists():
        token_create(name="bench", raw=TOKEN)
    body = f'{{"phoneNumber": "{args.number}"}}'.encode()
    statuses = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    def run(n: int) -> None:
        for _ in range(n):
            response = app(environ(body), start_response)
            b"".join(response)
            response.close()

    run(200)  # warm-up: connections, caches, imports
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0002)
        profiler.start()
        run(args.requests)
        profiler.stop()
        print(profiler.output_text(unicode=False, color=False, show_all=False))
        return
    started_cpu, started_wall = time.process_time(), time.perf_counter()
    run(args.requests)
    cpu, wall = time.process_time() - started_cpu, time.perf_counter() - started_wall
    assert set(statuses) == {"200 OK"}, set(statuses)
    print(
        f"{args.requests} lookups: {cpu / args.requests * 1e6:.0f} us CPU, {wall / args.requests * 1e6:.0f} us wall each"
    )


if __name__ == "__main__":
    main()
