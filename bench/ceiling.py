"""A framework-free WSGI lookup with the same contract: the ceiling this hardware allows.

Same Bearer check, same JSON body, same envelope as the product, answering from an
in-memory dict (like the peer). Run: BENCH_NUMBERS=file.json gunicorn -w 2 bench.ceiling:app
"""

import json
import os

SECRET = os.environ.get("LOOKUP_SECRET", "")
with open(os.environ["BENCH_NUMBERS"], encoding="utf-8") as fh:
    CUSTOMERS = {
        number: json.dumps({"status": "success", "data": data}, separators=(",", ":")).encode()
        for number, data in json.load(fh).items()
    }
NOT_FOUND = b'{"status":"not_found","data":null}'
HEADERS = [("Content-Type", "application/json"), ("X-Content-Type-Options", "nosniff")]


def respond(start_response, status: str, body: bytes):
    start_response(status, [*HEADERS, ("Content-Length", str(len(body)))])
    return [body]


def app(environ, start_response):
    scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme != "Bearer" or not SECRET or token != SECRET:
        return respond(start_response, "401 Unauthorized", b'{"error":"Unauthorized"}')
    length = int(environ.get("CONTENT_LENGTH") or 0)
    try:
        body = json.loads(environ["wsgi.input"].read(length) or b"{}")
    except ValueError:
        return respond(start_response, "400 Bad Request", b'{"error":"Malformed JSON body"}')
    if not isinstance(body, dict) or "phoneNumber" not in body:
        return respond(start_response, "400 Bad Request", b'{"error":"Missing phoneNumber field"}')
    return respond(start_response, "200 OK", CUSTOMERS.get(body["phoneNumber"], NOT_FOUND))
