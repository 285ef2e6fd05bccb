"""architect_probe --tutorial-node: send the tutorial node's request and follow its responseMapping."""

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from crm.phones import normalize_phone
from genesys.actions import LOOKUP_PATH, QUERY_TEMPLATE
from genesys.tutorial import TUTORIAL_NODE, Mapping, Route, apply_response_mapping, render_node_body, route
from genesys.velocity import render

MISSING_FIELD = "missing phoneNumber field"


@dataclass
class FlowRequest:
    """One HTTP request as the flow would send it."""

    method: str
    url: str
    headers: dict
    body: bytes | None
    timeout_ms: int


@dataclass
class Answer:
    """What came back: a status and body, or a transport failure."""

    status: int | None
    body: bytes
    latency_ms: float
    failure: str = ""  # "timeout" or "connection" when there was no answer
    reason: str = ""


@dataclass
class Report:
    """The probe's verdict; `lines` is what the command prints."""

    ok: bool
    cause: str = ""
    lines: list = field(default_factory=list)


@dataclass
class Flow:
    """What the flow is configured with: URL, method, headers, body template, budget and mapping."""

    url: str
    token: str
    method: str = "POST"
    timeout_ms: int = 3000
    node: dict = field(default_factory=lambda: dict(TUTORIAL_NODE["configuration"]))
    response_mapping: dict = field(default_factory=lambda: dict(TUTORIAL_NODE["configuration"]["responseMapping"]))

    def request(self, phone: str) -> FlowRequest:
        """The request for this caller, rendered from the flow's templates."""
        headers = {key: value for key, value in self.node["headers"].items() if key.lower() != "authorization"}
        written = next((v for k, v in self.node["headers"].items() if k.lower() == "authorization"), None)
        # The node's own token is a placeholder; keep its shape (with or without "Bearer ") and put ours in.
        bearer = written is None or written.lower().startswith("bearer ")
        headers = {"Authorization": f"Bearer {self.token}" if bearer else self.token, **headers}
        if self.method == "GET":
            query = render(QUERY_TEMPLATE, {"input": {"phoneNumber": phone}})
            url = self.url + ("&" + query[1:] if "?" in self.url else query)
            return FlowRequest("GET", url, headers, None, self.timeout_ms)
        return FlowRequest(
            "POST", self.url, headers, render_node_body(self.node["body"], phone).encode(), self.timeout_ms
        )


def endpoint_url(url: str) -> str:
    """The lookup endpoint: a bare server address gets /api/customer/lookup, anything else is used as given."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"--url must be an http(s) URL such as https://crm.example.com{LOOKUP_PATH}, not {url!r}.")
    if parts.path in ("", "/") and not parts.query:
        return f"{parts.scheme}://{parts.netloc}{LOOKUP_PATH}"
    return url.strip()


def send(request: FlowRequest) -> Answer:
    """Send one request with the budget as the timeout; never raises for HTTP or network trouble."""
    http_request = urllib.request.Request(
        request.url, data=request.body, method=request.method, headers=request.headers
    )
    started = time.perf_counter()

    def elapsed() -> float:
        return (time.perf_counter() - started) * 1000

    try:
        with urllib.request.urlopen(http_request, timeout=request.timeout_ms / 1000) as response:
            return Answer(response.status, response.read(), elapsed())
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.read(), elapsed())
    except TimeoutError as exc:
        return Answer(None, b"", elapsed(), "timeout", str(exc))
    except urllib.error.URLError as error:
        if isinstance(error.reason, TimeoutError):
            return Answer(None, b"", elapsed(), "timeout", str(error.reason))
        return Answer(None, b"", elapsed(), "connection", str(error.reason))
    except (OSError, ValueError, UnicodeError) as exc:  # reset connection, bad header value
        return Answer(None, b"", elapsed(), "connection", str(exc))


def mask(token: str) -> str:
    """Enough of a token to recognise it, never the token."""
    shown = token[:4] if len(token) >= 16 else ""  # a short secret would be half given away
    return f"{shown}… ({len(token)} chars)"


def probe(flow: Flow, phone: str) -> Report:
    """Send the caller's number as the flow would, follow the flow, and name the cause of a failure."""
    request = flow.request(phone)
    report = Report(ok=True)
    out = report.lines.append
    out(f"Request: {request.method} {request.url}")
    for key, value in request.headers.items():
        shown = value.replace(flow.token, mask(flow.token)) if flow.token and key.lower() == "authorization" else value
        out(f"Header: {key}: {shown}")
    # One line: a node's multi-line body keeps its meaning (JSON whitespace) and the output stays greppable.
    out(f"Body: {request.body.decode().replace(chr(10), ' ') if request.body is not None else '(none: GET)'}")
    answer = send(request)
    over = answer.latency_ms > request.timeout_ms
    out(f"HTTP status: {answer.status if answer.status is not None else 'none (' + answer.failure + ')'}")
    out(f"Latency: {answer.latency_ms:.0f} ms (budget {request.timeout_ms} ms: {'OVER' if over else 'OK'})")
    if answer.status is not None:
        out(f"Answer: {shorten(answer.body)}")

    if answer.failure or over:
        mapping = Mapping("error", problem="timeout" if over or answer.failure == "timeout" else "connection")
    else:
        mapping = apply_response_mapping(flow.response_mapping, answer.status, answer.body)
    result = route(flow.response_mapping, mapping)
    out(f"Path: {mapping.edge}")
    show_variables(out, mapping)
    show_route(out, flow, result)

    if mapping.edge == "error":
        cause, fix = explain(flow, request, answer, mapping, over)
        return fail(report, cause, fix)
    if result.decision is False:
        mismatch = reprobe(flow, phone, out)
        if mismatch:
            return fail(report, *mismatch)
    return report


def fail(report: Report, cause: str, fix: str) -> Report:
    report.ok, report.cause = False, cause.split(":", 1)[0]
    report.lines.append(f"Cause: {cause}")
    report.lines.append(f"Fix: {fix}")
    return report


def show_variables(out, mapping: Mapping) -> None:
    if mapping.edge != "success":
        out("Variables: none (the error edge sets no variables)")
        return
    for variable, value in mapping.variables.items():
        out(f"Variable: {variable} = {json.dumps(value) if value is not None else '(unset)'}")


def show_route(out, flow: Flow, result: Route) -> None:
    status_variable = flow.response_mapping.get("status", "status")
    if result.decision is not None:
        out(f'Decision: {status_variable} == "success" is {str(result.decision).lower()} -> {result.destination}')
    out(f'Prompt: "{result.prompt}" -> {result.destination}')


def shorten(body: bytes, limit: int = 300) -> str:
    text = body.decode("utf-8", "replace").replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + "…"


def error_message(body: bytes) -> str:
    """The `error` of a JSON error body, or the body itself."""
    try:
        answer = json.loads(body)
    except ValueError:
        return shorten(body, 120)
    if isinstance(answer, dict) and isinstance(answer.get("error"), str):
        return answer["error"]
    return shorten(body, 120)


def explain(flow: Flow, request: FlowRequest, answer: Answer, mapping: Mapping, over: bool) -> tuple[str, str]:
    """The cause of the error edge and its fix, in the tutorial's terms."""
    if answer.failure == "timeout" or over:
        waited = f"{answer.latency_ms:.0f} ms"
        return (
            f"timeout: no complete answer within the {request.timeout_ms} ms budget (waited {waited}).",
            "Make the lookup answer in well under a second (indexed query, database close to the server, "
            "enough workers) and check the network path from the Genesys region. Raising the step's "
            "timeout only makes callers wait longer.",
        )
    if answer.failure == "connection":
        return (
            f"connection failed: {answer.reason}.",
            "Check the URL, DNS, TLS certificate and firewall. Genesys Cloud needs a public HTTPS address.",
        )
    if answer.status in (401, 403):
        return token_mismatch(flow, request, answer.status)
    if answer.status == 400:
        message = error_message(answer.body)
        if "phonenumber" in message.lower() and "missing" in message.lower():
            return (
                f"{MISSING_FIELD}: the server answered 400 {message!r} to the body {shorten(request.body or b'')}.",
                'Use the request template {"phoneNumber": "$!esc.jsonString(${input.phoneNumber})"} and map the '
                "action's phoneNumber input to Call.Ani in the Call Data Action step.",
            )
        return (
            f"bad request: the server answered 400 {message!r}.",
            "Compare the body shown above with what the server expects; the data action's template is "
            '{"phoneNumber": "$!esc.jsonString(${input.phoneNumber})"}.',
        )
    if answer.status and not 200 <= answer.status < 300:
        hints = {
            404: f"Check the URL: the lookup lives at {LOOKUP_PATH}.",
            405: "Check the method: the lookup takes POST (or GET with ?phoneNumber=).",
            429: "The server throttled the token; raise its lookup rate or spread the load.",
        }
        fix = hints.get(answer.status, "Look at the server's log for this request; any non-2xx takes the Failure exit.")
        return f"HTTP {answer.status}: the server answered {error_message(answer.body)!r}.", fix
    return mapping_failure(flow, answer, mapping)


def token_mismatch(flow: Flow, request: FlowRequest, status: int) -> tuple[str, str]:
    token = flow.token
    header = request.headers.get("Authorization", "")
    if token != token.strip():
        where = "leading" if token[:1].isspace() else "trailing"
        detail = f"the token has {where} whitespace, so the header is not 'Bearer <token>'"
        fix = "Remove the spaces around the token in the credential field `token` (and in the node's header)."
    elif token.lower().startswith("bearer "):
        detail = "the token itself starts with 'Bearer ', so the header reads 'Bearer Bearer …'"
        fix = "Put only the token in the credential field `token`; the action's header adds 'Bearer '."
    elif any(ch.isspace() for ch in token):
        detail = "the token contains whitespace"
        fix = "Copy the token again as one word (create_lookup_token prints it on its last line)."
    elif not header.lower().startswith("bearer "):
        detail = "the Authorization header does not start with 'Bearer '"
        fix = "Write the header as 'Bearer ${credentials.token}' (in a node: 'Bearer <token>')."
    else:
        detail = "the server does not know this token (mistyped, revoked, or from another server)"
        fix = (
            "Create a token on this server (python manage.py create_lookup_token genesys-prod) and paste it, "
            "exactly, into the integration's credential field `token`."
        )
    return f"token mismatch: the server answered {status}; {detail}.", fix


def mapping_failure(flow: Flow, answer: Answer, mapping: Mapping) -> tuple[str, str]:
    if mapping.missing:
        try:
            keys = sorted(json.loads(answer.body))
        except (ValueError, TypeError):
            keys = []
        detail = f"the answer lacks {', '.join(mapping.missing)} (answer keys: {', '.join(keys) or 'none'})"
    else:
        detail = mapping.problem
    return (
        f"mapping failure: {detail}.",
        'Answer with the envelope {"status": "...", "data": {"customerId": "...", "firstName": "...", '
        '"lastName": "...", "tier": "...", "lastInteractionDate": "..."}} or make the responseMapping keys '
        "match the keys the server returns.",
    )


def variants(phone: str) -> list[str]:
    """Other spellings of the caller a legacy server may have stored: E.164, and its digits without '+'."""
    e164 = normalize_phone(phone)
    if e164 is None:
        return []
    found = []
    for candidate in (e164, e164.lstrip("+")):
        if candidate != phone and candidate not in found:
            found.append(candidate)
    return found


def reprobe(flow: Flow, phone: str, out) -> tuple[str, str] | None:
    """Not found as sent: does the server know the caller under another spelling?"""
    for candidate in variants(phone):
        answer = send(flow.request(candidate))
        mapping = Mapping("error", problem="timeout")
        if not answer.failure:
            mapping = apply_response_mapping(flow.response_mapping, answer.status, answer.body)
        result = route(flow.response_mapping, mapping)
        seen = "success" if result.decision else ("not found" if mapping.edge == "success" else "error")
        out(f"Re-probe: {json.dumps(candidate)} -> {seen}")
        if result.decision:
            return (
                f"number-format mismatch: {json.dumps(phone)} is not found, but {json.dumps(candidate)} is; "
                "the server compares numbers as text.",
                "Normalise numbers on the server before storing and looking them up (this project's "
                "crm.phones.normalize_phone turns tel:+1…, +1…, 1… and (555) 123-4567 into one E.164 form).",
            )
    return None
