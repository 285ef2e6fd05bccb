"""Run a data action the way Genesys does and say which exit the Call Data Action step takes.

Per Genesys' documentation (docs/genesys.md): Velocity renders the URL, headers and body; any
non-2xx answer, a non-JSON body, a translation-map path that does not resolve and has no
default, or an output that breaks the output contract is the Failure exit; the step's own
timeout is the Timeout exit. A default applies only when a path does not resolve: a present
null is a value, and it fails a string output.
"""

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

import jsonschema
from jsonpath_ng import parse as jsonpath_parse
from jsonpath_ng.exceptions import JsonPathLexerError, JsonPathParserError

from genesys.velocity import render

SUCCESS, FAILURE, TIMEOUT = "Success", "Failure", "Timeout"


@dataclass
class Request:
    """One HTTP request as the integration would send it."""

    method: str
    url: str
    headers: dict
    body: bytes | None


@dataclass
class Answer:
    """What came back: a status and body, or a transport failure ("timeout" or "connection")."""

    status: int | None
    body: bytes
    latency_ms: float
    failure: str = ""
    reason: str = ""


@dataclass
class Execution:
    """The exit the step takes, the outputs it sets, and why it failed."""

    exit: str
    request: Request
    answer: Answer
    outputs: dict = field(default_factory=dict)
    problem: str = ""  # what sent it to Failure / Timeout
    kind: str = ""  # http, not_json, unresolved, template, contract, timeout, connection


def render_request(action: dict, inputs: dict, credentials: dict) -> Request:
    """The request the integration sends for these inputs (unset inputs are Velocity nulls)."""
    config = action["config"]["request"]
    context = {"input": {key: value for key, value in inputs.items() if value is not None}, "credentials": credentials}
    method = config.get("requestType", "GET").upper()
    url = render(config["requestUrlTemplate"], context)
    headers = {key: render(value, context) for key, value in (config.get("headers") or {}).items()}
    body = None
    if method in ("POST", "PUT", "PATCH"):
        body = render(config.get("requestTemplate", "${input.rawRequest}"), context).encode()
    return Request(method, url, headers, body)


def send(request: Request, timeout_s: float) -> Answer:
    """Send one request with a timeout; never raises for HTTP or network trouble."""
    http_request = urllib.request.Request(
        request.url, data=request.body, method=request.method, headers=request.headers
    )
    started = time.perf_counter()

    def elapsed() -> float:
        return (time.perf_counter() - started) * 1000

    try:
        with urllib.request.urlopen(http_request, timeout=timeout_s) as response:
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


def translate(action: dict, body: bytes) -> tuple[dict | None, str, str]:
    """Translation map, defaults, success template and output contract: (outputs, problem, kind)."""
    response = action["config"].get("response") or {}
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None, "the answer is not JSON", "not_json"
    defaults = response.get("translationMapDefaults") or {}
    values, unresolved = {}, []
    for name, path in (response.get("translationMap") or {}).items():
        try:
            matches = [match.value for match in jsonpath_parse(path).find(document)]
        except (JsonPathLexerError, JsonPathParserError) as exc:
            return None, f"translation map {name}: {path} is not a JSONPath ({exc})", "unresolved"
        if matches:
            # Jayway returns the value of a definite path, and a list for a path with wildcards.
            values[name] = json.dumps(matches[0] if len(matches) == 1 and "*" not in path else matches)
        elif name in defaults:
            values[name] = defaults[name]
        else:
            unresolved.append(f"{path} ({name})")
    if unresolved:
        return None, "did not resolve and have no default: " + ", ".join(unresolved), "unresolved"
    template = response.get("successTemplate") or "${rawResult}"
    values.setdefault("rawResult", body.decode("utf-8", "replace"))
    rendered = render(template, values)
    try:
        outputs = json.loads(rendered)
    except ValueError:
        return None, f"the success template did not make JSON: {rendered[:200]}", "template"
    schema = action.get("contract", {}).get("output", {}).get("successSchema") or {}
    errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(outputs), key=lambda e: list(e.path))
    if errors:
        where = ".".join(str(part) for part in errors[0].path) or "(the output)"
        return outputs, f"output {where} breaks the output contract: {errors[0].message}", "contract"
    return outputs, "", ""


def execute(action: dict, inputs: dict, credentials: dict, *, step_timeout_s: float) -> Execution:
    """Execute the action for these inputs and give the exit the Call Data Action step takes."""
    request = render_request(action, inputs, credentials)
    action_timeout_s = action["config"].get("timeoutSeconds") or 60
    answer = send(request, min(action_timeout_s, step_timeout_s))
    if answer.failure == "timeout":
        if step_timeout_s <= action_timeout_s:
            return Execution(
                TIMEOUT, request, answer, problem=f"no answer within the step's {step_timeout_s:g} s", kind="timeout"
            )
        return Execution(
            FAILURE,
            request,
            answer,
            problem=f"no answer within the action's timeoutSeconds ({action_timeout_s} s)",
            kind="timeout",
        )
    if answer.failure:
        return Execution(FAILURE, request, answer, problem=f"connection failed: {answer.reason}", kind="connection")
    if not 200 <= answer.status < 300:
        return Execution(FAILURE, request, answer, problem=f"HTTP {answer.status}", kind="http")
    outputs, problem, kind = translate(action, answer.body)
    if problem:
        return Execution(FAILURE, request, answer, problem=problem, kind=kind)
    return Execution(SUCCESS, request, answer, outputs=outputs)
