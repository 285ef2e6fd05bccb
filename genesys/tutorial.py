"""The tutorial's GetExternalContactAction node: its response mapping and where it sends the caller.

No Genesys flow can import this node: GetExternalContactAction is Genesys' own Get External
Contact action (a lookup in Genesys' contact store by id). It is kept as the tutorial's
description of the call, and architect_probe --tutorial-node FILE follows it.
"""

import json
import re
from dataclasses import dataclass, field

from genesys.actions import BUDGET_MS, ERROR_PROMPT, GENERAL_PROMPT, METHODS, VIP_PROMPT, GenesysError

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
