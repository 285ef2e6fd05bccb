"""architect_probe against the real server and against deliberately broken peers."""

import json
import os
import re
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from lookup.genesys import TUTORIAL_NODE
from lookup.probe import mask
from tests.servers import ROOT, free_port, gunicorn

SECRET = "tutorial-secret-token-0123456789"
ALICE = {
    "customerId": "CUST-001",
    "firstName": "Alice",
    "lastName": "Smith",
    "tier": "Gold",
    "lastInteractionDate": "2023-10-15",
}
VIP_LINES = [
    "Path: success",
    'Variable: customerLookup.status = "success"',
    'Variable: customerLookup.customerId = "CUST-001"',
    'Variable: customerLookup.firstName = "Alice"',
    'Variable: customerLookup.lastName = "Smith"',
    'Variable: customerLookup.tier = "Gold"',
    'Decision: customerLookup.status == "success" is true -> VIP queue',
    'Prompt: "Hello Alice, welcome back. We see you are a Gold tier member." -> VIP queue',
]
ERROR_LINES = [
    "Path: error",
    "Variables: none (the error edge sets no variables)",
    'Prompt: "We are experiencing technical difficulties" -> transfer to an agent',
]
LATENCY = re.compile(r"^Latency: (\d+) ms \(budget (\d+) ms: (OK|OVER)\)$", re.MULTILINE)


def probe(*args: str) -> tuple[bool, list[str], str]:
    """Run the command in-process; (success path, output lines, error message)."""
    out = StringIO()
    try:
        call_command("architect_probe", *args, stdout=out)
    except CommandError as error:
        return False, out.getvalue().splitlines(), str(error)
    return True, out.getvalue().splitlines(), ""


def block(lines: list[str], expected: list[str]) -> bool:
    """True when `expected` appears in `lines` as consecutive lines."""
    return any(lines[i : i + len(expected)] == expected for i in range(len(lines)))


# -- peers that are not this project: the tutorial's Flask service, and broken variants --


class TutorialPeer(BaseHTTPRequestHandler):
    """The tutorial's backend: exact-match lookup, split-on-whitespace Bearer check, 400 without phoneNumber."""

    database = {"+15551234567": ALICE}
    delay = 0.0
    envelope = staticmethod(lambda customer: {"status": "success", "data": customer})

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.delay:
            time.sleep(self.delay)
        parts = (self.headers.get("Authorization") or "").split()
        if len(parts) != 2 or parts[0] != "Bearer" or parts[1] != SECRET:
            return self.answer(401, {"error": "Unauthorized"})
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if not data or "phoneNumber" not in data:
            return self.answer(400, {"error": "Missing phoneNumber field"})
        customer = self.database.get(data["phoneNumber"])
        if customer:
            return self.answer(200, self.envelope(customer))
        return self.answer(200, {"status": "not_found", "data": None})

    def answer(self, status: int, payload: dict) -> None:
        raw = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)
        except OSError:
            pass  # the probe gave up (timeout test): nobody is listening any more

    def log_message(self, format, *args):
        pass


class LegacyPeer(TutorialPeer):
    """Stores numbers without '+', as the tutorial's format-mismatch section describes."""

    database = {"15551234567": ALICE}


class SlowPeer(TutorialPeer):
    delay = 1.0


class RenamedKeysPeer(TutorialPeer):
    """Answers in its own envelope, not the one the flow maps."""

    envelope = staticmethod(lambda customer: {"result": "success", "customer": customer})


@contextmanager
def peer(handler):
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/api/customer/lookup"
    finally:
        server.shutdown()
        server.server_close()


# -- the real server ---------------------------------------------------------------------


@pytest.mark.server
@pytest.mark.django_db(transaction=True)
def test_probe_against_the_project_served_by_gunicorn(alice, token, tmp_path):
    with gunicorn(workers=1) as (url, _):
        # As an operator runs it: a separate process, exit code 0, the whole story on stdout.
        done = subprocess.run(
            [
                sys.executable,
                "manage.py",
                "architect_probe",
                "--url",
                url,
                "--token",
                token,
                "--phone",
                "tel:+15551234567",
            ],
            cwd=ROOT,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert (done.returncode, done.stderr) == (0, "")
        lines = done.stdout.splitlines()
        assert lines[:4] == [
            f"Request: POST {url}/api/customer/lookup",
            f"Header: Authorization: Bearer {token[:4]}… ({len(token)} chars)",
            "Header: Content-Type: application/json",
            'Body: {"phoneNumber": "tel:+15551234567"}',
        ]
        assert lines[4] == "HTTP status: 200"
        latency, budget, verdict = LATENCY.search(done.stdout).groups()
        assert (int(latency) < 3000, budget, verdict) == (True, "3000", "OK")
        assert lines[6] == (
            'Answer: {"status":"success","data":{"customerId":"CUST-001","firstName":"Alice",'
            '"lastName":"Smith","tier":"Gold","lastInteractionDate":"2023-10-15"}}'
        )
        assert lines[7:] == VIP_LINES
        assert token not in done.stdout

        ok, lines, _ = probe("--url", url, "--token", token, "--phone", "(555) 123-4567", "--method", "GET")
        assert ok and lines[0] == f"Request: GET {url}/api/customer/lookup?phoneNumber=%28555%29+123-4567"
        assert lines[2] == "Body: (none: GET)" and block(lines, VIP_LINES)

        # Not a customer under any format: the general queue, exit 0.
        ok, lines, _ = probe("--url", url, "--token", token, "--phone", "tel:+15550000000")
        assert ok
        assert lines[-4:] == [
            'Decision: customerLookup.status == "success" is false -> general queue',
            'Prompt: "Thank you for calling. Please hold for the next available agent." -> general queue',
            'Re-probe: "+15550000000" -> not found',
            'Re-probe: "15550000000" -> not found',
        ]
        assert "Variable: customerLookup.firstName = (unset)" in lines

        ok, lines, error = probe("--url", url, "--token", f" {token}", "--phone", "tel:+15551234567")
        assert (ok, error) == (False, "the flow would take the error path or misroute the caller: token mismatch")
        assert "HTTP status: 401" in lines and block(lines, ERROR_LINES)
        assert lines[-2:] == [
            "Cause: token mismatch: the server answered 401; the token has leading whitespace, "
            "so the header is not 'Bearer <token>'.",
            "Fix: Remove the spaces around the token in the credential field `token` (and in the node's header).",
        ]

        # The tutorial's node JSON, pointed at this server, keeps working.
        node = tmp_path / "node.json"
        node.write_text(json.dumps(TUTORIAL_NODE))
        ok, lines, _ = probe("--node", str(node), "--url", url, "--token", token, "--phone", "+15551234567")
        assert ok and lines[3] == 'Body: {  "phoneNumber": "+15551234567" }'
        assert block(lines, VIP_LINES)


# -- broken peers: each failure of the tutorial, named ----------------------------------


def test_tutorial_peer_with_the_tutorial_node_succeeds(tmp_path):
    node = tmp_path / "node.json"
    node.write_text(json.dumps(TUTORIAL_NODE))
    with peer(TutorialPeer) as url:
        ok, lines, _ = probe("--node", str(node), "--url", url, "--token", SECRET, "--phone", "+15551234567")
    assert ok and "HTTP status: 200" in lines and block(lines, VIP_LINES)


def test_wrong_token_names_token_mismatch():
    with peer(TutorialPeer) as url:
        ok, lines, error = probe("--url", url, "--token", "some-other-token-0123456789", "--phone", "+15551234567")
    assert (ok, error) == (False, "the flow would take the error path or misroute the caller: token mismatch")
    assert lines[4:7] == ["HTTP status: 401", lines[5], 'Answer: {"error": "Unauthorized"}']
    assert block(lines, ERROR_LINES)
    assert lines[-2:] == [
        "Cause: token mismatch: the server answered 401; the server does not know this token "
        "(mistyped, revoked, or from another server).",
        "Fix: Create a token on this server (python manage.py create_lookup_token genesys-prod) and paste it, "
        "exactly, into the integration's credential field `token`.",
    ]


def test_token_pasted_with_bearer_names_it():
    with peer(TutorialPeer) as url:
        ok, lines, _ = probe("--url", url, "--token", f"Bearer {SECRET}", "--phone", "+15551234567")
    assert not ok
    assert lines[-2:] == [
        "Cause: token mismatch: the server answered 401; the token itself starts with 'Bearer ', "
        "so the header reads 'Bearer Bearer …'.",
        "Fix: Put only the token in the credential field `token`; the action's header adds 'Bearer '.",
    ]


def test_node_header_without_bearer_names_it(tmp_path):
    node = json.loads(json.dumps(TUTORIAL_NODE))
    node["configuration"]["headers"]["Authorization"] = "your_secure_secret_token_here"
    path = tmp_path / "node.json"
    path.write_text(json.dumps(node))
    with peer(TutorialPeer) as url:
        ok, lines, _ = probe("--node", str(path), "--url", url, "--token", SECRET, "--phone", "+15551234567")
    assert not ok and lines[1] == f"Header: Authorization: {SECRET[:4]}… ({len(SECRET)} chars)"
    assert lines[-2:] == [
        "Cause: token mismatch: the server answered 401; the Authorization header does not start with 'Bearer '.",
        "Fix: Write the header as 'Bearer ${credentials.token}' (in a node: 'Bearer <token>').",
    ]


def test_slow_server_names_timeout():
    with peer(SlowPeer) as url:
        started = time.monotonic()
        ok, lines, error = probe("--url", url, "--token", SECRET, "--phone", "+15551234567", "--timeout-ms", "300")
        assert time.monotonic() - started < 0.9  # the probe gives up at the budget, not when the server answers
    assert (ok, error) == (False, "the flow would take the error path or misroute the caller: timeout")
    assert lines[4] == "HTTP status: none (timeout)"
    latency, budget, verdict = LATENCY.search("\n".join(lines)).groups()
    assert 300 <= int(latency) < 900 and (budget, verdict) == ("300", "OVER")
    assert block(lines, ERROR_LINES)
    assert lines[-2] == f"Cause: timeout: no complete answer within the 300 ms budget (waited {latency} ms)."
    assert lines[-1].startswith("Fix: Make the lookup answer in well under a second")


def test_wrong_envelope_keys_names_mapping_failure():
    with peer(RenamedKeysPeer) as url:
        ok, lines, error = probe("--url", url, "--token", SECRET, "--phone", "+15551234567")
    assert (ok, error) == (False, "the flow would take the error path or misroute the caller: mapping failure")
    assert "HTTP status: 200" in lines and block(lines, ERROR_LINES)
    assert lines[-2] == (
        "Cause: mapping failure: the answer lacks status, data.customerId, data.firstName, data.lastName, "
        "data.tier (answer keys: customer, result)."
    )
    assert lines[-1].startswith('Fix: Answer with the envelope {"status": "...", "data": {"customerId": "..."')


def test_body_without_phone_number_names_missing_field(tmp_path):
    node = json.loads(json.dumps(TUTORIAL_NODE))
    node["configuration"]["body"] = '{"phone": "{{contact.attributes.caller.phoneNumber}}"}'  # a bad template
    path = tmp_path / "node.json"
    path.write_text(json.dumps(node))
    with peer(TutorialPeer) as url:
        ok, lines, error = probe("--node", str(path), "--url", url, "--token", SECRET, "--phone", "+15551234567")
    assert (ok, error) == (
        False,
        "the flow would take the error path or misroute the caller: missing phoneNumber field",
    )
    assert "HTTP status: 400" in lines and block(lines, ERROR_LINES)
    assert lines[-2:] == [
        "Cause: missing phoneNumber field: the server answered 400 'Missing phoneNumber field' "
        'to the body {"phone": "+15551234567"}.',
        'Fix: Use the request template {"phoneNumber": "$!esc.jsonString(${input.phoneNumber})"} and map '
        "the action's phoneNumber input to Call.Ani in the Call Data Action step.",
    ]


def test_legacy_server_without_normalisation_names_number_format_mismatch():
    with peer(LegacyPeer) as url:
        ok, lines, error = probe("--url", url, "--token", SECRET, "--phone", "tel:+15551234567")
    assert (ok, error) == (
        False,
        "the flow would take the error path or misroute the caller: number-format mismatch",
    )
    assert lines[-6:] == [
        'Decision: customerLookup.status == "success" is false -> general queue',
        'Prompt: "Thank you for calling. Please hold for the next available agent." -> general queue',
        'Re-probe: "+15551234567" -> not found',
        'Re-probe: "15551234567" -> success',
        'Cause: number-format mismatch: "tel:+15551234567" is not found, but "15551234567" is; '
        "the server compares numbers as text.",
        "Fix: Normalise numbers on the server before storing and looking them up (this project's "
        "crm.phones.normalize_phone turns tel:+1…, +1…, 1… and (555) 123-4567 into one E.164 form).",
    ]


def test_exit_code_is_one_on_the_error_path_without_a_traceback():
    with peer(TutorialPeer) as url:
        done = subprocess.run(
            [sys.executable, "manage.py", "architect_probe", "--url", url, "--token", "x" * 30, "--phone", "+1555"],
            cwd=ROOT,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert done.stderr == "CommandError: the flow would take the error path or misroute the caller: token mismatch\n"
    assert "Path: error" in done.stdout.splitlines()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--url", "ftp://x", "--token", "t", "--phone", "1"], "--url must be an http(s) URL such as https://crm.example.com/api/customer/lookup, not 'ftp://x'."),
        (["--url", "http://x", "--token", "tok\nen", "--phone", "1"], "--token has characters an HTTP header cannot carry (line breaks, non-ASCII)."),
        (["--token", "t", "--phone", "1"], "Give --url (the lookup endpoint) or --node FILE with a url."),
        (["--url", "http://x", "--token", "t", "--phone", "1", "--timeout-ms", "0"], "--timeout-ms must be between 1 and 60000."),
        (["--node", "/nonexistent/node.json", "--token", "t", "--phone", "1"], "Cannot read /nonexistent/node.json: No such file or directory"),
    ],
)  # fmt: skip
def test_bad_arguments_are_command_errors(args, message):
    with pytest.raises(CommandError) as error:
        call_command("architect_probe", *args, stdout=StringIO())
    assert str(error.value) == message


def test_bad_node_file_is_a_command_error(tmp_path):
    path = tmp_path / "node.json"
    path.write_text('{"configuration": {"url": "https://x/api/customer/lookup"}}')
    with pytest.raises(CommandError) as error:
        call_command("architect_probe", "--node", str(path), "--token", "t", "--phone", "1", stdout=StringIO())
    assert str(error.value) == f'{path}: The node needs a "responseMapping" object of response field -> flow variable.'
    path.write_text("{not json")
    with pytest.raises(CommandError, match=r"node.json: Expecting property name"):
        call_command("architect_probe", "--node", str(path), "--token", "t", "--phone", "1", stdout=StringIO())


def test_token_is_masked_and_short_tokens_show_nothing():
    assert mask("abcdefghijklmnopqrstuvwxyz") == "abcd… (26 chars)"
    assert mask("short-secret") == "… (12 chars)"
