"""architect_probe: the exported action executed as Genesys does, the --matrix, and the tutorial node."""

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
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from genesys.probe import mask
from genesys.tutorial import TUTORIAL_NODE
from tests.contract import ALICE_DATA
from tests.servers import ROOT, free_port, gunicorn

SECRET = "tutorial-secret-token-0123456789"
ALICE = ALICE_DATA
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
NOT_ROUTED = "the flow would not route the caller as intended: "
# The last lines for a server that compares numbers as text, in either mode.
NUMBER_FORMAT_MISMATCH = [
    'Re-probe: "15551234567" -> success',
    'Cause: number-format mismatch: "tel:+15551234567" is not found, but "15551234567" is; '
    "the server compares numbers as text.",
    "Fix: Normalise numbers on the server before storing and looking them up (this project's "
    "crm.phones.normalize_phone turns tel:+1…, +1…, 1… and (555) 123-4567 into one E.164 form).",
]
TIMEOUT_FIX = "Fix: Make the lookup answer in well under a second"


def probe(*args: str) -> tuple[bool, list[str], str]:
    """Run the command in-process; (routed as intended, output lines, error message)."""
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
        self.reply(status, json.dumps(payload).encode())

    def reply(self, status: int, raw: bytes) -> None:
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


def answering(status: int, body: bytes, delay: float = 0.0):
    """A peer that answers every request with this status and body (after `delay` seconds)."""

    class Fixed(TutorialPeer):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            time.sleep(delay)
            self.reply(status, body)

    return Fixed


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

ALICE_ACTION_LINES = [
    "Exit: Success",
    'Output: status = "success"',
    'Output: customerId = "CUST-001"',
    'Output: firstName = "Alice"',
    'Output: lastName = "Smith"',
    'Output: tier = "Gold"',
    'Output: lastInteractionDate = "2023-10-15"',
    'Decision: status == "success" is true -> VIP queue',
    'Prompt: "Hello Alice, welcome back. We see you are a Gold tier member." -> VIP queue',
]
# A not-found answer's outputs: each the default "" (status aside).
NOT_FOUND_OUTPUTS = [
    'Output: status = "not_found"',
    'Output: customerId = ""',
    'Output: firstName = ""',
    'Output: lastName = ""',
    'Output: tier = ""',
    'Output: lastInteractionDate = ""',
]
FAILURE_LINES = [
    "Outputs: none (the Failure exit sets no success outputs)",
    'Prompt: "We are experiencing technical difficulties" -> agent queue',
]
MANAGE_ENV = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}


def probe_process(*args: str) -> subprocess.CompletedProcess:
    """`manage.py architect_probe ARGS` as an operator runs it: a separate process, text output captured."""
    command = [sys.executable, "manage.py", "architect_probe", *args]
    return subprocess.run(command, cwd=ROOT, env=MANAGE_ENV, capture_output=True, text=True, timeout=60)


@pytest.mark.server
@pytest.mark.django_db(transaction=True)
def test_probe_executes_the_exported_action_against_gunicorn(alice, bob, token, tmp_path):
    with gunicorn(workers=1) as (url, _):
        # As an operator runs it: a separate process, exit code 0, the whole story on stdout.
        done = probe_process("--url", url, "--token", token, "--phone", "tel:+15551234567")
        assert (done.returncode, done.stderr) == (0, "")
        lines = done.stdout.splitlines()
        assert lines[:5] == [
            'Action: "CRM customer lookup" POST, action timeout 3 s, step timeout 4 s',
            f"Request: POST {url}/api/customer/lookup",
            f"Header: Authorization: Bearer {token[:4]}… ({len(token)} chars)",
            "Header: Content-Type: application/json",
            'Body: {"phoneNumber": "tel:+15551234567"}',
        ]
        assert lines[5] == "HTTP status: 200"
        assert re.fullmatch(r"Latency: \d+ ms \(step timeout 4000 ms\)", lines[6])
        assert lines[7] == (
            'Answer: {"status":"success","data":{"customerId":"CUST-001","firstName":"Alice",'
            '"lastName":"Smith","tier":"Gold","lastInteractionDate":"2023-10-15"}}'
        )
        assert lines[8:] == ALICE_ACTION_LINES
        assert token not in done.stdout

        ok, lines, _ = probe("--url", url, "--token", token, "--phone", "(555) 123-4567", "--method", "GET")
        assert ok and lines[1] == f"Request: GET {url}/api/customer/lookup?phoneNumber=%28555%29+123-4567"
        assert lines[3] == "Body: (none: GET)" and lines[-9:] == ALICE_ACTION_LINES

        # Not a customer under any spelling: Success with the defaults, then the flow asks for the number.
        ok, lines, _ = probe("--url", url, "--token", token, "--phone", "tel:+15550000000")
        assert ok
        assert lines[8:] == [
            "Exit: Success",
            *NOT_FOUND_OUTPUTS,
            'Decision: status == "success" is false -> asks for the customer number',
            'Prompt: "Please enter your customer number, then press the pound key." -> asks for the customer number',
            'Re-probe: "+15550000000" -> Success',
            'Re-probe: "15550000000" -> Success',
        ]

        ok, lines, error = probe("--url", url, "--token", f" {token}", "--phone", "tel:+15551234567")
        assert (ok, error) == (False, NOT_ROUTED + "token mismatch")
        assert "Exit: Failure (HTTP 401)" in lines and block(lines, FAILURE_LINES)
        assert lines[-2:] == [
            "Cause: token mismatch: the server answered 401; the token has leading whitespace, "
            "so the header is not 'Bearer <token>'.",
            "Fix: Remove the spaces around the token in the credential field `token`.",
        ]

        # A caller who typed the digits of their customer number: the lookup-by-id action.
        ok, lines, _ = probe("--url", url, "--token", token, "--customer-id", "001")
        assert ok and lines[1] == f"Request: POST {url}/api/customer/lookup-by-id"
        assert lines[4] == 'Body: {"customerId": "001"}' and lines[-9:] == ALICE_ACTION_LINES
        ok, lines, _ = probe("--url", url, "--token", token, "--customer-id", "999")
        assert ok and lines[-1] == (
            'Prompt: "Sorry, we could not find that customer number. Please enter it again, then press the pound '
            'key." -> asks again, then general queue'
        )

        # An exported file is executed as it is.
        exported = tmp_path / "action.json"
        call_command("genesys_action", "--base-url", url, "-o", str(exported), stderr=StringIO())
        ok, lines, _ = probe("--action", str(exported), "--token", token, "--phone", "+15559876543")
        assert (
            ok and lines[-1] == 'Prompt: "Hello Bob, welcome back. We see you are a Silver tier member." -> VIP queue'
        )

        # The tutorial's node JSON, pointed at this server, in the mode named after it.
        node = node_file(tmp_path)
        ok, lines, _ = probe("--tutorial-node", str(node), "--url", url, "--token", token, "--phone", "+15551234567")
        assert ok and lines[3] == 'Body: {  "phoneNumber": "+15551234567" }'
        assert block(lines, VIP_LINES)

        ok, lines, _ = probe("--url", url, "--token", token, "--matrix", "--phone", "+15551234567")
        assert ok and len(lines) == 15
        found = '  Success  status=success customerId=CUST-001  -> VIP queue: "Hello Alice, welcome back. We see you are a Gold tier member."'
        asked = '  Success  status=not_found customerId=-  -> asks for the customer number: "Please enter your customer number, then press the pound key."'
        assert [line.endswith(found) for line in lines] == [True] * 10 + [False] * 5
        assert [line.endswith(asked) for line in lines] == [False] * 10 + [True] * 5
        assert [line.split("  ", 1)[0] for line in lines] == [
            '"+15551234567"',
            '"tel:+15551234567"',
            '"tel: +15551234567"',
            '"tel:+15551234567;ext=12"',
            '"sip:+15551234567@sbc.example.com;user=phone"',
            '"sips:+15551234567@sbc.example.com:5061;transport=tls"',
            '"sip:%2B15551234567@sbc.example.com;user=phone"',
            '"tel:%2B15551234567"',
            '"\\"Caller Name\\" <sip:+15551234567@10.0.0.1>;tag=8c7b6a5d"',
            '"tel:5551234567;phone-context=+1"',
            '"sip:agent%40example.com@localhost"',
            '"sip:anonymous@anonymous.invalid"',
            '"anonymous"',
            '""',
            "(not set)",
        ]


# -- Genesys' decisions on answers a server may give ---------------------------------------

ALICE_BODY = json.dumps({"status": "success", "data": ALICE}).encode()


@pytest.mark.parametrize(
    ("status", "body", "exit_line", "cause"),
    [
        (200, ALICE_BODY, "Exit: Success", ""),
        # data missing altogether: every data path is unresolved, so the defaults apply.
        (200, b'{"status":"not_found"}', "Exit: Success", ""),
        # a present null is a value: no default, and it breaks the string output.
        (200, json.dumps({"status": "success", "data": {**ALICE, "tier": None}}).encode(),
         "Exit: Failure (output tier breaks the output contract: None is not of type 'string')", "output contract"),
        (200, json.dumps({"data": ALICE}).encode(),
         "Exit: Failure (did not resolve and have no default: $.status (status))", "mapping failure"),
        (200, b"<html>Bad gateway</html>", "Exit: Failure (the answer is not JSON)", "mapping failure"),
        (401, b'{"error":"Unauthorized"}', "Exit: Failure (HTTP 401)", "token mismatch"),
        (404, b'{"error":"Not found"}', "Exit: Failure (HTTP 404)", "HTTP 404"),
    ],
)  # fmt: skip
def test_exit_is_decided_as_genesys_does(status, body, exit_line, cause):
    with peer(answering(status, body)) as url:
        ok, lines, error = probe("--url", url, "--token", SECRET, "--phone", "+15551234567")
    assert exit_line in lines
    assert ok is (cause == "")
    if cause:
        assert error == NOT_ROUTED + cause and block(lines, FAILURE_LINES)


def test_not_found_without_data_gets_the_defaults():
    with peer(answering(200, b'{"status":"not_found"}')) as url:
        ok, lines, _ = probe("--url", url, "--token", SECRET, "--phone", "anonymous")
    assert ok and lines[-8:-2] == NOT_FOUND_OUTPUTS


def test_answer_slower_than_the_action_is_a_failure_and_slower_than_the_step_a_timeout():
    with peer(answering(200, ALICE_BODY, delay=1.0)) as url:
        started = time.monotonic()
        ok, lines, error = probe("--url", url, "--token", SECRET, "--phone", "+15551234567", "--timeout-ms", "300")
        assert time.monotonic() - started < 0.9  # the probe gives up at the step timeout
    assert (ok, error) == (False, NOT_ROUTED + "timeout")
    assert "Exit: Timeout (no answer within the step's 0.3 s)" in lines
    assert 'Prompt: "We are experiencing technical difficulties" -> agent queue' in lines
    assert lines[-1].startswith(TIMEOUT_FIX)


def test_exported_action_timeout_below_the_step_timeout_takes_failure(tmp_path):
    definition = json.loads(exported_text())
    definition["config"]["timeoutSeconds"] = 0.3  # below the step's 4 s: the integration gives up first
    path = tmp_path / "slow.json"
    with peer(answering(200, ALICE_BODY, delay=1.0)) as url:
        definition["config"]["request"]["requestUrlTemplate"] = url
        path.write_text(json.dumps(definition))
        ok, lines, _ = probe("--action", str(path), "--token", SECRET, "--phone", "+15551234567")
    assert not ok and "Exit: Failure (no answer within the action's timeoutSeconds (0.3 s))" in lines


def exported_text() -> str:
    out = StringIO()
    call_command("genesys_action", "--base-url", "http://127.0.0.1:1", stdout=out, stderr=StringIO())
    return out.getvalue()


def test_legacy_server_without_normalisation_names_number_format_mismatch():
    with peer(LegacyPeer) as url:
        ok, lines, error = probe("--url", url, "--token", SECRET, "--phone", "tel:+15551234567")
    assert (ok, error) == (False, NOT_ROUTED + "number-format mismatch")
    assert lines[-4:] == ['Re-probe: "+15551234567" -> Success', *NUMBER_FORMAT_MISMATCH]


def test_matrix_flags_identities_a_server_without_normalisation_misses():
    with peer(TutorialPeer) as url:  # finds only the exact text "+15551234567"
        ok, lines, error = probe("--url", url, "--token", SECRET, "--matrix", "--phone", "+15551234567")
    assert (ok, error) == (
        False,
        NOT_ROUTED + "an identity took another path than the E.164 number (or no-number callers were matched)",
    )
    assert [line.endswith("MISMATCH") for line in lines] == [False] + [True] * 9 + [False] * 5


def node_file(tmp_path, **configuration) -> Path:
    """The tutorial's node as a file, with these entries of its configuration replaced."""
    node = json.loads(json.dumps(TUTORIAL_NODE))
    node["configuration"].update(configuration)
    path = tmp_path / "node.json"
    path.write_text(json.dumps(node))
    return path


@pytest.fixture
def node(tmp_path):
    """The tutorial's node as a file."""
    return node_file(tmp_path)


def tutorial(handler, node: Path, *, token: str = SECRET, phone: str = "+15551234567"):
    """--tutorial-node against a peer: (routed as intended, output lines, error message)."""
    with peer(handler) as url:
        return probe("--tutorial-node", str(node), "--url", url, "--token", token, "--phone", phone)


# -- --tutorial-node: the tutorial's node, followed as before ----------------------------------


def test_tutorial_peer_with_the_tutorial_node_succeeds(node):
    ok, lines, _ = tutorial(TutorialPeer, node)
    assert ok and "HTTP status: 200" in lines and block(lines, VIP_LINES)


def test_tutorial_node_wrong_token_names_token_mismatch(node):
    ok, lines, error = tutorial(TutorialPeer, node, token="some-other-token-0123456789")
    assert (ok, error) == (False, NOT_ROUTED + "token mismatch")
    assert lines[4:7] == ["HTTP status: 401", lines[5], 'Answer: {"error": "Unauthorized"}']
    assert block(lines, ERROR_LINES)
    assert lines[-2:] == [
        "Cause: token mismatch: the server answered 401; the server does not know this token "
        "(mistyped, revoked, or from another server).",
        "Fix: Create a token on this server (python manage.py create_lookup_token genesys-prod) and paste it, "
        "exactly, into the integration's credential field `token`.",
    ]


def test_tutorial_node_token_pasted_with_bearer_names_it(node):
    ok, lines, _ = tutorial(TutorialPeer, node, token=f"Bearer {SECRET}")
    assert not ok
    assert lines[-2:] == [
        "Cause: token mismatch: the server answered 401; the token itself starts with 'Bearer ', "
        "so the header reads 'Bearer Bearer …'.",
        "Fix: Put only the token in the credential field `token`; the action's header adds 'Bearer '.",
    ]


def test_node_header_without_bearer_names_it(tmp_path):
    headers = {**TUTORIAL_NODE["configuration"]["headers"], "Authorization": "your_secure_secret_token_here"}
    ok, lines, _ = tutorial(TutorialPeer, node_file(tmp_path, headers=headers))
    assert not ok and lines[1] == f"Header: Authorization: {SECRET[:4]}… ({len(SECRET)} chars)"
    assert lines[-2:] == [
        "Cause: token mismatch: the server answered 401; the Authorization header does not start with 'Bearer '.",
        "Fix: Write the header as 'Bearer ${credentials.token}' (in a node: 'Bearer <token>').",
    ]


def test_tutorial_node_slow_server_names_timeout(node):
    with peer(SlowPeer) as url:
        started = time.monotonic()
        ok, lines, error = probe(
            "--tutorial-node",
            str(node),
            "--url",
            url,
            "--token",
            SECRET,
            "--phone",
            "+15551234567",
            "--timeout-ms",
            "300",
        )
        assert time.monotonic() - started < 0.9  # the probe gives up at the budget, not when the server answers
    assert (ok, error) == (False, NOT_ROUTED + "timeout")
    assert lines[4] == "HTTP status: none (timeout)"
    latency, budget, verdict = LATENCY.search("\n".join(lines)).groups()
    assert 300 <= int(latency) < 900 and (budget, verdict) == ("300", "OVER")
    assert block(lines, ERROR_LINES)
    assert lines[-2] == f"Cause: timeout: no complete answer within the 300 ms budget (waited {latency} ms)."
    assert lines[-1].startswith(TIMEOUT_FIX)


def test_tutorial_node_wrong_envelope_keys_names_mapping_failure(node):
    ok, lines, error = tutorial(RenamedKeysPeer, node)
    assert (ok, error) == (False, NOT_ROUTED + "mapping failure")
    assert "HTTP status: 200" in lines and block(lines, ERROR_LINES)
    assert lines[-2] == (
        "Cause: mapping failure: the answer lacks status, data.customerId, data.firstName, data.lastName, "
        "data.tier (answer keys: customer, result)."
    )
    assert lines[-1].startswith('Fix: Answer with the envelope {"status": "...", "data": {"customerId": "..."')


def test_body_without_phone_number_names_missing_field(tmp_path):
    bad_template = '{"phone": "{{contact.attributes.caller.phoneNumber}}"}'
    ok, lines, error = tutorial(TutorialPeer, node_file(tmp_path, body=bad_template))
    assert (ok, error) == (False, NOT_ROUTED + "missing phoneNumber field")
    assert "HTTP status: 400" in lines and block(lines, ERROR_LINES)
    assert lines[-2:] == [
        "Cause: missing phoneNumber field: the server answered 400 'Missing phoneNumber field' "
        'to the body {"phone": "+15551234567"}.',
        'Fix: Use the request template {"phoneNumber": "$!esc.jsonString(${input.phoneNumber})"} and map '
        "the action's phoneNumber input to Call.Ani in the Call Data Action step.",
    ]


def test_tutorial_node_legacy_server_names_number_format_mismatch(node):
    ok, lines, error = tutorial(LegacyPeer, node, phone="tel:+15551234567")
    assert (ok, error) == (False, NOT_ROUTED + "number-format mismatch")
    assert lines[-6:] == [
        'Decision: customerLookup.status == "success" is false -> general queue',
        'Prompt: "Thank you for calling. Please hold for the next available agent." -> general queue',
        'Re-probe: "+15551234567" -> not found',
        *NUMBER_FORMAT_MISMATCH,
    ]


def test_exit_code_is_one_on_the_error_path_without_a_traceback():
    with peer(TutorialPeer) as url:
        done = probe_process("--url", url, "--token", "x" * 30, "--phone", "+1555")
    assert done.returncode == 1
    assert done.stderr == f"CommandError: {NOT_ROUTED}token mismatch\n"
    assert "Exit: Failure (HTTP 401)" in done.stdout.splitlines()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--url", "ftp://x", "--token", "t", "--phone", "1"], "--url must be an http(s) URL such as https://crm.example.com, not 'ftp://x'."),
        (["--tutorial-node", "/dev/null", "--url", "ftp://x", "--token", "t", "--phone", "1"], "/dev/null: Expecting value: line 1 column 1 (char 0)"),
        (["--url", "http://x", "--token", "t"], "Give --phone (the caller as Call.Ani gives it) or --customer-id."),
        (["--url", "http://x", "--token", "t", "--phone", "1", "--customer-id", "2"], "Give --phone (the caller) or --customer-id (typed digits), not both."),
        (["--url", "http://x", "--token", "t", "--matrix", "--phone", "123"], "--phone '123' is not a possible phone number; the matrix needs one to vary."),
        (["--action", "/nonexistent/a.json", "--token", "t", "--phone", "1"], "Cannot read /nonexistent/a.json: No such file or directory"),
        (["--url", "http://x", "--token", "tok\nen", "--phone", "1"], "--token has characters an HTTP header cannot carry (line breaks, non-ASCII)."),
        (["--token", "t", "--phone", "1"], "Give --url (the server) or --action FILE."),
        (["--url", "http://x", "--token", "t", "--phone", "1", "--timeout-ms", "0"], "--timeout-ms must be between 1 and 60000."),
        (["--tutorial-node", "/nonexistent/node.json", "--token", "t", "--phone", "1"], "Cannot read /nonexistent/node.json: No such file or directory"),
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
        call_command("architect_probe", "--tutorial-node", str(path), "--token", "t", "--phone", "1", stdout=StringIO())
    assert str(error.value) == f'{path}: The node needs a "responseMapping" object of response field -> flow variable.'
    path.write_text("{not json")
    with pytest.raises(CommandError, match=r"node.json: Expecting property name"):
        call_command("architect_probe", "--tutorial-node", str(path), "--token", "t", "--phone", "1", stdout=StringIO())


def test_token_is_masked_and_short_tokens_show_nothing():
    assert mask("abcdefghijklmnopqrstuvwxyz") == "abcd… (26 chars)"
    assert mask("short-secret") == "… (12 chars)"
