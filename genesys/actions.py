"""Genesys Cloud Web Services Data Actions for the two lookups, in Genesys' export format."""

import json
from urllib.parse import urlsplit

# The server's paths, written here too: genesys imports nothing from lookup (design §2).
LOOKUP_PATH = "/api/customer/lookup"
LOOKUP_BY_ID_PATH = "/api/customer/lookup-by-id"
METHODS = ("POST", "GET")
KINDS = ("phone", "by-id")
DEFAULT_NAME = "CRM customer lookup"
DEFAULT_BY_ID_NAME = "CRM customer lookup by id"
# The flow's budget (the tutorial's 3000 ms step timeout); Genesys takes whole seconds, 1-60.
TIMEOUT_SECONDS = 3
BUDGET_MS = TIMEOUT_SECONDS * 1000
# The Call Data Action step waits a little longer than the action, so a slow answer ends in
# the action's own Failure (with its error) rather than the step's bare Timeout.
STEP_TIMEOUT_SECONDS = TIMEOUT_SECONDS + 1

DATA_FIELDS = ("customerId", "firstName", "lastName", "tier", "lastInteractionDate")
OUTPUT_FIELDS = ("status", *DATA_FIELDS)

AUTHORIZATION_TEMPLATE = "Bearer ${credentials.token}"
# Silent ($!) and escaped: a withheld caller (null input) sends "" and a quote cannot break the JSON.
BODY_TEMPLATE = '{"phoneNumber": "$!esc.jsonString(${input.phoneNumber})"}'
BY_ID_BODY_TEMPLATE = '{"customerId": "$!esc.jsonString(${input.customerId})"}'
QUERY_TEMPLATE = "?phoneNumber=$!esc.url(${input.phoneNumber})"
# What every real GET export carries: the body Genesys would send is the raw request, unused.
GET_REQUEST_TEMPLATE = "${input.rawRequest}"
# JSON text, not a bare value: the success template inserts it as it is.
EMPTY_STRING_DEFAULT = json.dumps("")

VIP_PROMPT = "Hello {firstName}, welcome back. We see you are a {tier} tier member."
GENERAL_PROMPT = "Thank you for calling. Please hold for the next available agent."
ERROR_PROMPT = "We are experiencing technical difficulties"
ASK_ID_PROMPT = "Please enter your customer number, then press the pound key."
RETRY_ID_PROMPT = "Sorry, we could not find that customer number. Please enter it again, then press the pound key."


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


def build_action(base_url: str, *, method: str = "POST", name: str | None = None, kind: str = "phone") -> dict:
    """The data action (export format) that calls the lookup by phone (POST or GET) or by customer id."""
    method = method.upper()
    if method not in METHODS:
        raise GenesysError(f"--method must be POST or GET, not {method!r}.")
    if kind not in KINDS:
        raise GenesysError(f"--kind must be phone or by-id, not {kind!r}.")
    if kind == "by-id" and method != "POST":
        raise GenesysError("--kind by-id is a POST action: the lookup by customer id takes a JSON body.")
    base = clean_base_url(base_url)
    if kind == "by-id":
        default_name, url, body = DEFAULT_BY_ID_NAME, base + LOOKUP_BY_ID_PATH, BY_ID_BODY_TEMPLATE
    elif method == "POST":
        default_name, url, body = DEFAULT_NAME, base + LOOKUP_PATH, BODY_TEMPLATE
    else:  # GET sends no body; the number goes in the URL
        default_name, url, body = f"{DEFAULT_NAME} (GET)", base + LOOKUP_PATH + QUERY_TEMPLATE, GET_REQUEST_TEMPLATE
    request = {"requestUrlTemplate": url, "requestType": method, "headers": {"Authorization": AUTHORIZATION_TEMPLATE}}
    if method == "POST":
        request["headers"]["Content-Type"] = "application/json"
    request["requestTemplate"] = body
    return {
        "name": (name or "").strip() or default_name,
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
            "input": {"inputSchema": input_schema(kind)},
            "output": {"successSchema": output_schema()},
        },
        "secure": False,
    }


def input_schema(kind: str = "phone") -> dict:
    """One optional string: a withheld caller (or no digits) must still reach the service and get not_found."""
    if kind == "by-id":
        return {
            "$schema": "http://json-schema.org/draft-04/schema#",
            "title": "Customer lookup by id request",
            "description": "The customer number the caller typed: map the Collect Input variable.",
            "type": "object",
            "properties": {
                "customerId": {
                    "type": "string",
                    "description": "e.g. CUST-001, cust-001 or 001 (digits only, as a keypad gives them).",
                }
            },
            "additionalProperties": True,
        }
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
