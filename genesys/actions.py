"""Genesys Cloud: the Web Services Data Action export and the tutorial node's response mapping."""

import json
import re
from dataclasses import dataclass, field
from urllib.parse import quote_plus, urlsplit

LOOKUP_PATH = "/api/customer/lookup"
METHODS = ("POST", "GET")
DEFAULT_NAME = "CRM customer lookup"
# The flow's budget (the tutorial's 3000 ms step timeout); Genesys takes whole seconds, 1-60.
TIMEOUT_SECONDS = 3
BUDGET_MS = TIMEOUT_SECONDS * 1000

DATA_FIELDS = ("customerId", "firstName", "lastName", "tier", "lastInteractionDate")
OUTPUT_FIELDS = ("status", *DATA_FIELDS)

AUTHORIZATION_TEMPLATE = "Bearer ${credentials.token}"
# Silent ($!) and escaped: a withheld caller (null input) sends "" and a quote cannot break the JSON.
BODY_TEMPLATE = '{"phoneNumber": "$!esc.jsonString(${input.phoneNumber})"}'
QUERY_TEMPLATE = "?phoneNumber=$!esc.url(${input.phoneNumber})"
# JSON text, not a bare value: the success template inserts it as it is.
EMPTY_STRING_DEFAULT = json.dumps("")

VIP_PROMPT = "Hello {firstName}, welcome back. We see you are a {tier} tier member."
GENERAL_PROMPT = "Thank you for calling. Please hold for the next available agent."
ERROR_PROMPT = "We are experiencing technical difficulties"

# The tutorial's GetExternalContactAction node, kept as the reference for what callers map.
TUTORIAL_NODE = {
    "id": "external-contact-node-1",
    "type": "GetExternalContactAction",
    "name": "Customer Lookup",
    "description": "Retrieves customer profile based on caller ID",
    "configuration": {
        "method": "POST",
        "url": "https://your-ngrok-url.ngrok.io/api/customer/lookup",
        "headers": {"Authorization": "Bearer your_secure_secret_token_here", "Content-Type": "application/json"},
        "body": '{\n "phoneNumber": "{{contact.attributes.caller.phoneNumber}}"\n}',
        "timeout": 3000,
        "responseMapping": {
            "status": "customerLookup.status",
            "data.customerId": "customerLookup.customerId",
            "data.firstName": "customerLookup.firstName",
            "data.lastName": "customerLookup.lastName",
            "data.tier": "customerLookup.tier",
        },
    },
    "edges": {"success": "decision-node-1", "error": "error-handler-node-1"},
}


class GenesysError(ValueError):
    """Input that cannot make a working Genesys configuration; the message says why."""


# -- the data action export -------------------------------------------------------------


def clean_base_url(base_url: str) -> str:
    """The service's base URL without a trailing slash; refuse what Genesys could not call."""
    text = (base_url or "").strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise GenesysError(f"--base-url must be an http(s) URL such as https://crm.example.com, not {base_url!r}.")
    if parts.username or parts.password:
        raise GenesysError("--base-url must not carry a user or password; the token goes in the credentials.")
    if parts.query or parts.fragment or "?" in text or "#" in text:
        raise GenesysError("--base-url must not have a query string or fragment.")
    if any(ch.isspace() for ch in text) or "$" in text:
        raise GenesysError("--base-url must not contain spaces or '$' (Velocity would read it as a reference).")
    path = parts.path.rstrip("/")
    if path.endswith(LOOKUP_PATH):
        raise GenesysError(f"--base-url is the server's address without {LOOKUP_PATH}; that path is added for you.")
    # A path that is left is a prefix the service is mounted under behind a proxy, e.g. /crm.
    return f"{parts.scheme}://{parts.netloc}{path}"


def build_action(base_url: str, *, method: str = "POST", name: str | None = None) -> dict:
    """The data action (export format) that calls the lookup with METHOD."""
    method = method.upper()
    if method not in METHODS:
        raise GenesysError(f"--method must be POST or GET, not {method!r}.")
    name = (name or "").strip() or (DEFAULT_NAME if method == "POST" else f"{DEFAULT_NAME} (GET)")
    url = clean_base_url(base_url) + LOOKUP_PATH
    request = {
        "requestUrlTemplate": url,
        "requestType": method,
        "headers": {"Authorization": AUTHORIZATION_TEMPLATE},
    }
    if method == "POST":
        request["headers"]["Content-Type"] = "application/json"
        request["requestTemplate"] = BODY_TEMPLATE
    else:
        request["requestUrlTemplate"] = url + QUERY_TEMPLATE  # GET sends no body
    return {
        "name": name,
        "integrationType": "custom-rest-actions",
        "actionType": "custom",
        "config": {
            "request": request,
            "response": {
                "translationMap": {
                    "status": "$.status",
                    **{key: f"$.data.{key}" for key in DATA_FIELDS},
                },
                # No default for status: a broken envelope must take the Failure exit, not look like not_found.
                "translationMapDefaults": {key: EMPTY_STRING_DEFAULT for key in DATA_FIELDS},
                "successTemplate": "{" + ", ".join(f'"{key}": ${{{key}}}' for key in OUTPUT_FIELDS) + "}",
            },
            "timeoutSeconds": TIMEOUT_SECONDS,
        },
        "contract": {
            "input": {"inputSchema": input_schema()},
            "output": {"successSchema": output_schema()},
        },
        "secure": False,
    }


def input_schema() -> dict:
    """One optional string: a withheld caller must still reach the service and get not_found."""
    return {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "title": "Customer lookup request",
        "description": "The caller's number as Architect gives it: map Call.Ani.",
        "type": "object",
        "properties": {
            "phoneNumber": {
                "type": "string",
                "description": "The caller, e.g. tel:+15551234567 (Call.Ani); any format.",
            }
        },
        "additionalProperties": True,
    }


def output_schema() -> dict:
    """Flat strings, so Architect gets one variable per field."""
    descriptions = {
        "status": "success when the caller is a customer, not_found otherwise",
        "customerId": "e.g. CUST-001; empty when not found",
        "firstName": "empty when not found",
        "lastName": "empty when not found",
        "tier": "e.g. Gold; empty when not found",
        "lastInteractionDate": "YYYY-MM-DD; empty when unknown or not found",
    }
    return {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "title": "Customer lookup result",
        "type": "object",
        "properties": {key: {"type": "string", "description": descriptions[key]} for key in OUTPUT_FIELDS},
        "additionalProperties": True,
    }


def action_json(action: dict) -> str:
    """Stable text: fixed key order, two-space indent, a final newline. Same action, same bytes."""
    return json.dumps(action, indent=2, ensure_ascii=False) + "\n"


# -- a Velocity subset: what our templates use ------------------------------------------

_VELOCITY = re.compile(
    r"(?P<call>\$(?P<call_silent>!?)esc\.(?P<func>jsonString|url)\(\$!?\{(?P<arg>[\w.]+)\}\))"
    r"|(?P<ref>\$(?P<ref_silent>!?)\{(?P<name>[\w.]+)\})"
)
_ESCAPES = {
    "jsonString": lambda text: json.dumps(text, ensure_ascii=False)[1:-1],  # escapes, adds no quotes
    "url": lambda text: quote_plus(text, safe="*"),  # Java's URLEncoder: form encoding
}


def render_velocity(template: str, context: dict) -> str:
    """Render `${x.y}`, `$!{x.y}`, `$esc.jsonString(${x.y})`, `$esc.url(${x.y})` and their silent forms.

    As in Velocity, a null reference prints its own text unless the silent form `$!` is used.
    """

    def lookup(path: str):
        value = context
        for part in path.split("."):
            if not isinstance(value, dict):
                return None
            value = value.get(part)
        return value

    def replace(match: re.Match) -> str:
        if match["call"]:
            value = lookup(match["arg"])
            if value is None:
                return "" if match["call_silent"] else match["call"]
            return _ESCAPES[match["func"]](str(value))
        value = lookup(match["name"])
        if value is None:
            return "" if match["ref_silent"] else match["ref"]
        return str(value)

    return _VELOCITY.sub(replace, template)


# -- the tutorial node: response mapping and what the caller hears ----------------------

_MUSTACHE = re.compile(r"\{\{\s*[\w.]+\s*\}\}")


def render_node_body(body: str, phone: str) -> str:
    """The node's body with its caller placeholder(s) replaced by the number, JSON-escaped."""
    return _MUSTACHE.sub(lambda _: json.dumps(phone, ensure_ascii=False)[1:-1], body)


@dataclass
class Mapping:
    """The node's outcome: the edge taken, the flow variables set, and what went wrong."""

    edge: str  # "success" or "error"
    variables: dict = field(default_factory=dict)  # flow variable -> str, or None when unset
    problem: str = ""  # why the error edge was taken
    missing: list = field(default_factory=list)  # mapped keys absent from the answer


def apply_response_mapping(response_mapping: dict, http_status: int, body: bytes | str) -> Mapping:
    """Apply a tutorial-style responseMapping ({"data.firstName": "customerLookup.firstName"}) to an answer.

    Under a null parent (`data: null` of not_found) a mapped key is unset, not a failure, so the
    caller keeps the success edge; a key absent from an object, or a non-JSON answer, is a failure.
    """
    if not 200 <= http_status < 300:
        return Mapping("error", problem=f"HTTP {http_status}")
    try:
        answer = json.loads(body)
    except (ValueError, TypeError):
        return Mapping("error", problem="the answer is not JSON")
    if not isinstance(answer, dict):
        return Mapping("error", problem="the answer is not a JSON object")
    variables, missing, wrong = {}, [], []
    for path, variable in response_mapping.items():
        value, found = answer, True
        for part in path.split("."):
            if value is None:
                break  # unset: the parent is null
            if not isinstance(value, dict) or part not in value:
                found = False
                break
            value = value[part]
        if not found:
            missing.append(path)
        elif value is not None and not isinstance(value, str):
            wrong.append(path)
        else:
            variables[variable] = value
    if missing or wrong:
        parts = []
        if missing:
            parts.append("missing " + ", ".join(missing))
        if wrong:
            parts.append("not a string: " + ", ".join(wrong))
        return Mapping("error", variables=variables, problem="; ".join(parts), missing=missing)
    return Mapping("success", variables=variables)


@dataclass(frozen=True)
class Route:
    """Where the flow sends the caller after the lookup."""

    decision: bool | None  # status == "success"; None on the error edge
    prompt: str
    destination: str


def route(response_mapping: dict, mapping: Mapping) -> Route:
    """The Decision on status == "success" and the prompt the caller hears, as in the tutorial."""
    if mapping.edge != "success":
        return Route(None, ERROR_PROMPT, "transfer to an agent")
    by_field = {path: mapping.variables.get(variable) for path, variable in response_mapping.items()}
    if by_field.get("status") == "success":
        prompt = VIP_PROMPT.format(firstName=by_field.get("data.firstName") or "", tier=by_field.get("data.tier") or "")
        return Route(True, prompt, "VIP queue")
    return Route(False, GENERAL_PROMPT, "general queue")


def node_configuration(node: dict) -> dict:
    """The configuration of a tutorial-style node, checked for what the probe needs."""
    config = node.get("configuration") if isinstance(node, dict) else None
    if not isinstance(config, dict):
        raise GenesysError('The node JSON needs a "configuration" object (see the tutorial\'s node).')
    mapping = config.get("responseMapping")
    if not isinstance(mapping, dict) or not mapping or not all(isinstance(v, str) for v in mapping.values()):
        raise GenesysError('The node needs a "responseMapping" object of response field -> flow variable.')
    if not isinstance(config.get("url"), str) or not config["url"].startswith(("http://", "https://")):
        raise GenesysError('The node needs an http(s) "url".')
    method = str(config.get("method", "POST")).upper()
    if method not in METHODS:
        raise GenesysError(f"The node's method must be POST or GET, not {method!r}.")
    headers = config.get("headers", {})
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise GenesysError('The node\'s "headers" must be an object of strings.')
    timeout = config.get("timeout", BUDGET_MS)
    if not isinstance(timeout, int) or isinstance(timeout, bool) or timeout <= 0:
        raise GenesysError('The node\'s "timeout" must be a positive number of milliseconds.')
    body = config.get("body", "")
    if not isinstance(body, str):
        raise GenesysError('The node\'s "body" must be a string (JSON text with {{...}} placeholders).')
    return {**config, "method": method, "headers": headers, "timeout": timeout, "body": body}
