"""architect_probe --tutorial-node: send the tutorial node's request and follow its responseMapping."""

import json
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from genesys import execute
from genesys.actions import LOOKUP_PATH, QUERY_TEMPLATE
from genesys.diagnosis import (
    Report,
    error_message,
    fail,
    number_format_mismatch,
    shorten,
    show_headers,
    token_mismatch,
    variants,
)
from genesys.execute import Answer
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
    return execute.send(request, request.timeout_ms / 1000)


def probe(flow: Flow, phone: str) -> Report:
    """Send the caller's number as the flow would, follow the flow, and name the cause of a failure."""
    request = flow.request(phone)
    report = Report(ok=True)
    out = report.lines.append
    out(f"Request: {request.method} {request.url}")
    show_headers(out, request.headers, flow.token)
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
        return token_mismatch(flow.token, request.headers.get("Authorization", ""), answer.status, node=True)
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
            return number_format_mismatch(phone, candidate)
    return None
