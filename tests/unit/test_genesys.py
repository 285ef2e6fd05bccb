"""The Genesys data action export, run the way Genesys runs it, and the tutorial node's mapping."""

import json
from io import StringIO
from urllib.parse import quote_plus, unquote_plus

import airspeed
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import given
from hypothesis import strategies as st

from genesys.actions import ERROR_PROMPT, GENERAL_PROMPT
from genesys.tutorial import TUTORIAL_NODE, apply_response_mapping, node_configuration, render_node_body, route
from genesys.velocity import ESCAPES, render
from tests.contract import ALICE_BODY, NOT_FOUND_BODY, UNAUTHORIZED_BODY
from tests.servers import ROOT, gunicorn, http

ALICE_OUTPUTS = {
    "status": "success",
    "customerId": "CUST-001",
    "firstName": "Alice",
    "lastName": "Smith",
    "tier": "Gold",
    "lastInteractionDate": "2023-10-15",
}
NOT_FOUND_OUTPUTS = {
    "status": "not_found",
    "customerId": "",
    "firstName": "",
    "lastName": "",
    "tier": "",
    "lastInteractionDate": "",
}
MAPPING = TUTORIAL_NODE["configuration"]["responseMapping"]


def export(*args: str) -> str:
    out = StringIO()
    call_command("genesys_action", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def action(base_url: str, method: str = "POST", kind: str = "phone") -> dict:
    return json.loads(export("--base-url", base_url, "--method", method, "--kind", kind))


# -- a small Genesys, independent of genesys/: Velocity by airspeed, paths by hand -----------


class EscapeTool:
    """Velocity's $esc as Genesys documents it: jsonString escapes without quotes, url form-encodes."""

    def jsonString(self, value):  # noqa: N802 - the name Velocity templates call
        return None if value is None else json.dumps(value)[1:-1]

    def url(self, value):
        # java.net.URLEncoder: letters, digits and .-*_ stay; a space is "+".
        return None if value is None else quote_plus(value, safe="*-._").replace("~", "%7E")


def velocity(template: str, context: dict) -> str:
    """Render with airspeed, an independent Velocity implementation."""
    return airspeed.Template(template).merge({**context, "esc": EscapeTool()})


def resolve(document, path: str):
    """A definite JSONPath ($.a.b) the way Jayway reads it: (found, value); a null parent does not resolve."""
    value = document
    for part in path.removeprefix("$.").split("."):
        if not isinstance(value, dict) or part not in value:
            return False, None
        value = value[part]
    return True, value


class ActionFailure(Exception):
    """The Call Data Action step would take its Failure exit."""


def run_action(definition: dict, *, phone: str | None, token: str) -> dict:
    """Execute the data action against its URL: render, send, translate, check the contract."""
    request = definition["config"]["request"]
    context = {"input": {} if phone is None else {"phoneNumber": phone}, "credentials": {"token": token}}
    url = velocity(request["requestUrlTemplate"], context)
    headers = {key: velocity(value, context) for key, value in request["headers"].items()}
    body = None
    if request["requestType"] == "POST":
        rendered = velocity(request["requestTemplate"], context)
        assert json.loads(rendered) == {"phoneNumber": phone or ""}  # escaping keeps the body valid JSON
        body = rendered.encode()
    status, _, answer = http(request["requestType"], url, body=body, headers=headers)
    if not 200 <= status < 300:
        raise ActionFailure(f"HTTP {status}")
    return translate(definition, answer)


def translate(definition: dict, answer: bytes) -> dict:
    """Translation map (Jayway-style JSONPath, JSON values), defaults, success template, output contract."""
    response = definition["config"]["response"]
    try:
        document = json.loads(answer)
    except ValueError as exc:
        raise ActionFailure("the answer is not JSON") from exc
    values = {}
    for name, path in response["translationMap"].items():
        found, value = resolve(document, path)
        if found:
            values[name] = json.dumps(value)
        elif name in response["translationMapDefaults"]:
            values[name] = response["translationMapDefaults"][name]
        else:
            raise ActionFailure(f"{path} did not resolve and {name} has no default")
    output = json.loads(velocity(response["successTemplate"], values))
    schema = definition["contract"]["output"]["successSchema"]["properties"]
    for name, spec in schema.items():
        if spec["type"] == "string" and not isinstance(output.get(name), str):
            raise ActionFailure(f"output {name} is {output.get(name)!r}, not a string")
    return output


# -- the export ------------------------------------------------------------------------


def test_post_action_has_the_request_response_and_contracts_genesys_imports():
    definition = action("https://crm.example.com/")
    assert list(definition) == ["name", "integrationType", "actionType", "config", "contract", "secure"]
    assert definition["name"] == "CRM customer lookup"
    assert (definition["integrationType"], definition["actionType"], definition["secure"]) == (
        "custom-rest-actions",
        "custom",
        False,
    )
    assert definition["config"]["request"] == {
        "requestUrlTemplate": "https://crm.example.com/api/customer/lookup",
        "requestType": "POST",
        "headers": {"Authorization": "Bearer ${credentials.token}", "Content-Type": "application/json"},
        "requestTemplate": '{"phoneNumber": "$!esc.jsonString(${input.phoneNumber})"}',
    }
    assert definition["config"]["response"] == {
        "translationMap": {
            "status": "$.status",
            "customerId": "$.data.customerId",
            "firstName": "$.data.firstName",
            "lastName": "$.data.lastName",
            "tier": "$.data.tier",
            "lastInteractionDate": "$.data.lastInteractionDate",
        },
        "translationMapDefaults": {
            "customerId": '""',
            "firstName": '""',
            "lastName": '""',
            "tier": '""',
            "lastInteractionDate": '""',
        },
        "successTemplate": '{"status": ${status}, "customerId": ${customerId}, "firstName": ${firstName}, '
        '"lastName": ${lastName}, "tier": ${tier}, "lastInteractionDate": ${lastInteractionDate}}',
    }
    assert definition["config"]["timeoutSeconds"] == 3
    inputs = definition["contract"]["input"]["inputSchema"]
    assert inputs["properties"] == {
        "phoneNumber": {"type": "string", "description": "The caller, e.g. tel:+15551234567 (Call.Ani); any format."}
    }
    assert "required" not in inputs  # a withheld caller must still reach the lookup
    outputs = definition["contract"]["output"]["successSchema"]
    assert list(outputs["properties"]) == list(ALICE_OUTPUTS)
    assert {spec["type"] for spec in outputs["properties"].values()} == {"string"}


def test_get_action_puts_the_escaped_number_in_the_url_and_carries_the_raw_request_template():
    definition = action("https://crm.example.com", "GET")
    assert definition["name"] == "CRM customer lookup (GET)"
    assert definition["config"]["request"] == {
        "requestUrlTemplate": "https://crm.example.com/api/customer/lookup?phoneNumber=$!esc.url(${input.phoneNumber})",
        "requestType": "GET",
        "headers": {"Authorization": "Bearer ${credentials.token}"},
        "requestTemplate": "${input.rawRequest}",  # as every real GET export and the provider's example
    }
    assert definition["config"]["response"] == action("https://crm.example.com")["config"]["response"]


def test_by_id_action_posts_the_typed_customer_number():
    definition = action("https://crm.example.com", kind="by-id")
    assert definition["name"] == "CRM customer lookup by id"
    assert definition["config"]["request"] == {
        "requestUrlTemplate": "https://crm.example.com/api/customer/lookup-by-id",
        "requestType": "POST",
        "headers": {"Authorization": "Bearer ${credentials.token}", "Content-Type": "application/json"},
        "requestTemplate": '{"customerId": "$!esc.jsonString(${input.customerId})"}',
    }
    assert definition["config"]["response"] == action("https://crm.example.com")["config"]["response"]
    assert definition["contract"]["output"] == action("https://crm.example.com")["contract"]["output"]
    inputs = definition["contract"]["input"]["inputSchema"]
    assert list(inputs["properties"]) == ["customerId"] and "required" not in inputs


def test_by_id_action_is_post_only():
    with pytest.raises(CommandError) as error:
        export("--base-url", "https://crm.example.com", "--kind", "by-id", "--method", "GET")
    assert str(error.value) == "--kind by-id is a POST action: the lookup by customer id takes a JSON body."


def test_export_is_stable_and_o_writes_the_same_bytes(tmp_path):
    first = export("--base-url", "https://crm.example.com", "--name", "Caller lookup")
    assert first == export("--base-url", "https://crm.example.com", "--name", "Caller lookup")
    assert first.endswith("}\n") and json.loads(first)["name"] == "Caller lookup"
    target = tmp_path / "action.json"
    assert export("--base-url", "https://crm.example.com", "--name", "Caller lookup", "-o", str(target)) == ""
    assert target.read_bytes() == first.encode()


def test_export_never_contains_a_token(token):
    assert token not in export("--base-url", "https://crm.example.com")


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://crm.example.com/", "https://crm.example.com/api/customer/lookup"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000/api/customer/lookup"),
        ("https://example.com/crm/", "https://example.com/crm/api/customer/lookup"),  # behind a proxy prefix
    ],
)
def test_base_url_is_cleaned(base_url, expected):
    assert action(base_url)["config"]["request"]["requestUrlTemplate"] == expected


@pytest.mark.parametrize(
    ("base_url", "message"),
    [
        ("ftp://crm.example.com", "--base-url must be an http(s) URL such as https://crm.example.com, not 'ftp://crm.example.com'."),
        ("crm.example.com", "--base-url must be an http(s) URL such as https://crm.example.com, not 'crm.example.com'."),
        ("https://crm.example.com/api/customer/lookup", "--base-url is the server's address without /api/customer/lookup; that path is added for you."),
        ("https://crm.example.com/?x=1", "--base-url must not have a query string or fragment."),
        ("https://crm.example.com/#top", "--base-url must not have a query string or fragment."),
        ("https://me:secret@crm.example.com", "--base-url must not carry a user or password; the token goes in the credentials."),
        ("https://crm.example.com/$x", "--base-url must not contain spaces or '$' (Velocity would read it as a reference)."),
    ],
)  # fmt: skip
def test_unusable_base_url_is_a_command_error(base_url, message):
    with pytest.raises(CommandError) as error:
        export("--base-url", base_url)
    assert str(error.value) == message


# -- Velocity: our renderer against airspeed, and golden bytes ----------------------------

TEMPLATES = [
    '{"phoneNumber": "$!esc.jsonString(${input.phoneNumber})"}',
    '{"customerId": "$!esc.jsonString(${input.customerId})"}',
    "https://crm.example.com/api/customer/lookup?phoneNumber=$!esc.url(${input.phoneNumber})",
    "https://crm.example.com/api/customer/lookup",
    "https://crm.example.com/api/customer/lookup-by-id",
    "Bearer ${credentials.token}",
    "${input.rawRequest}",
    "${input.phoneNumber}|$!{input.phoneNumber}|$input.phoneNumber",
]


def test_the_templates_listed_are_the_ones_we_export():
    exported = set()
    for method, kind in (("POST", "phone"), ("GET", "phone"), ("POST", "by-id")):
        request = action("https://crm.example.com", method, kind)["config"]["request"]
        exported |= {request["requestUrlTemplate"], request["requestTemplate"], *request["headers"].values()}
    assert exported - {"application/json"} <= set(TEMPLATES)


# JSON-safe text: Velocity gets Java strings, so no lone surrogates.
caller_text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40)


@given(value=st.none() | caller_text, token=st.none() | st.text(alphabet="abcXYZ019-_", min_size=1, max_size=20))
def test_our_renderer_agrees_with_airspeed(value, token):
    inputs = {} if value is None else {"phoneNumber": value, "customerId": value}
    context = {"input": inputs, "credentials": {} if token is None else {"token": token}}
    for template in TEMPLATES:
        ours, theirs = render(template, context), velocity(template, context)
        if "esc.url" in template:
            # Java and Python may spell the same character differently (~ vs %7E); both decode alike.
            assert unquote_plus(ours) == unquote_plus(theirs), template
        elif "esc.jsonString" in template:
            assert json.loads(ours) == json.loads(theirs), template  # "\u007f" and "\x7f" are one character
        else:
            assert ours == theirs, template


@given(values=st.lists(st.none() | caller_text, min_size=6, max_size=6))
def test_success_template_renders_like_airspeed(values):
    template = action("https://crm.example.com")["config"]["response"]["successTemplate"]
    context = {key: json.dumps(value) for key, value in zip(ALICE_OUTPUTS, values, strict=True)}
    assert render(template, context) == velocity(template, context)
    assert json.loads(render(template, context)) == dict(zip(ALICE_OUTPUTS, values, strict=True))


@given(value=caller_text)
def test_escapes_round_trip(value):
    assert json.loads(f'"{ESCAPES["jsonString"](value)}"') == value
    assert unquote_plus(ESCAPES["url"](value)) == value


def test_rendered_templates_golden_bytes():
    tricky = {"input": {"phoneNumber": 'tel:+1 555"\\é'}, "credentials": {"token": "t0k"}}
    assert render(TEMPLATES[0], tricky) == '{"phoneNumber": "tel:+1 555\\"\\\\é"}'
    assert render(TEMPLATES[2], tricky) == (
        "https://crm.example.com/api/customer/lookup?phoneNumber=tel%3A%2B1+555%22%5C%C3%A9"
    )
    assert render(TEMPLATES[5], tricky) == "Bearer t0k"
    unset = {"input": {}, "credentials": {}}
    assert render(TEMPLATES[0], unset) == '{"phoneNumber": ""}'
    assert render(TEMPLATES[5], unset) == "Bearer ${credentials.token}"  # a missing credential shows itself
    assert (
        render("$esc.jsonString(${input.phoneNumber})|" + TEMPLATES[7], unset)
        == "$esc.jsonString(${input.phoneNumber})|${input.phoneNumber}||$input.phoneNumber"
    )


# -- the export, executed against the live server ----------------------------------------

CALLERS = [
    ("+15551234567", ALICE_OUTPUTS),
    ("tel:+15551234567", ALICE_OUTPUTS),
    ("", NOT_FOUND_OUTPUTS),
    ('+1555"1234567', NOT_FOUND_OUTPUTS),  # a quote: escaped, still valid JSON, not a number
    ("+15550000000", NOT_FOUND_OUTPUTS),
    ("sip:anonymous@anonymous.invalid", NOT_FOUND_OUTPUTS),
    (None, NOT_FOUND_OUTPUTS),  # input not set at all: the silent template sends ""
]


@pytest.mark.server
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("method", ["POST", "GET"])
def test_exported_action_against_a_live_server(alice, token, method):
    with gunicorn(workers=1) as (url, _):
        definition = action(url, method)
        for phone, expected in CALLERS:
            assert run_action(definition, phone=phone, token=token) == expected, phone
        with pytest.raises(ActionFailure, match="HTTP 401"):
            run_action(definition, phone="+15551234567", token="not-the-token-0000000000")


def test_translation_fails_loudly_on_a_broken_envelope():
    definition = action("https://crm.example.com")
    assert translate(definition, NOT_FOUND_BODY) == NOT_FOUND_OUTPUTS
    with pytest.raises(ActionFailure, match=r"\$.status did not resolve and status has no default"):
        translate(definition, b'{"result":"success","customer":{"firstName":"Alice"}}')
    with pytest.raises(ActionFailure, match="the answer is not JSON"):
        translate(definition, b"<html>Bad gateway</html>")
    # An explicit null does not fall back to the default: data fields must be strings.
    with pytest.raises(ActionFailure, match="output tier is None, not a string"):
        translate(definition, b'{"status":"success","data":{"customerId":"C","firstName":"A","tier":null}}')


# -- the tutorial's node ----------------------------------------------------------------


def answer_of(response) -> tuple[int, bytes]:
    return response.status_code, response.content


@pytest.fixture
def answers(alice, api, anon_api):
    """Real answers of the lookup API: found, not found, unauthorized."""
    url = "/api/customer/lookup"
    found = answer_of(api.post(url, {"phoneNumber": "tel:+15551234567"}, format="json"))
    not_found = answer_of(api.post(url, {"phoneNumber": "+15550000000"}, format="json"))
    unauthorized = answer_of(anon_api.post(url, {"phoneNumber": "+15551234567"}, format="json"))
    assert [found[1], not_found[1], unauthorized[1]] == [ALICE_BODY, NOT_FOUND_BODY, UNAUTHORIZED_BODY]
    return {"found": found, "not_found": not_found, "unauthorized": unauthorized}


def test_tutorial_node_found_takes_success_edge_to_vip(answers):
    mapping = apply_response_mapping(MAPPING, *answers["found"])
    assert (mapping.edge, mapping.problem) == ("success", "")
    assert mapping.variables == {
        "customerLookup.status": "success",
        "customerLookup.customerId": "CUST-001",
        "customerLookup.firstName": "Alice",
        "customerLookup.lastName": "Smith",
        "customerLookup.tier": "Gold",
    }
    result = route(MAPPING, mapping)
    assert (result.decision, result.prompt, result.destination) == (
        True,
        "Hello Alice, welcome back. We see you are a Gold tier member.",
        "VIP queue",
    )


def test_tutorial_node_not_found_is_unset_not_a_failure_and_reaches_general_queue(answers):
    mapping = apply_response_mapping(MAPPING, *answers["not_found"])
    assert mapping.edge == "success"
    assert mapping.variables == {
        "customerLookup.status": "not_found",
        "customerLookup.customerId": None,
        "customerLookup.firstName": None,
        "customerLookup.lastName": None,
        "customerLookup.tier": None,
    }
    result = route(MAPPING, mapping)
    assert (result.decision, result.prompt, result.destination) == (False, GENERAL_PROMPT, "general queue")
    assert GENERAL_PROMPT == "Thank you for calling. Please hold for the next available agent."


def test_tutorial_node_401_takes_error_edge(answers):
    mapping = apply_response_mapping(MAPPING, *answers["unauthorized"])
    assert (mapping.edge, mapping.problem, mapping.variables) == ("error", "HTTP 401", {})
    result = route(MAPPING, mapping)
    assert (result.decision, result.prompt, result.destination) == (None, ERROR_PROMPT, "transfer to an agent")
    assert ERROR_PROMPT == "We are experiencing technical difficulties"


@pytest.mark.parametrize(
    ("body", "problem", "missing"),
    [
        (b'{"data":{"customerId":"C","firstName":"A","lastName":"S","tier":"G"}}', "missing status", ["status"]),
        (b'{"status":"success","data":{"customerId":"C"}}', "missing data.firstName, data.lastName, data.tier", ["data.firstName", "data.lastName", "data.tier"]),
        (b'{"status":"success","customer":{}}', "missing data.customerId, data.firstName, data.lastName, data.tier", ["data.customerId", "data.firstName", "data.lastName", "data.tier"]),
        (b'{"status":"success","data":"Alice"}', "missing data.customerId, data.firstName, data.lastName, data.tier", ["data.customerId", "data.firstName", "data.lastName", "data.tier"]),
        (b'{"status":1,"data":null}', "not a string: status", []),
        (b"<html>oops</html>", "the answer is not JSON", []),
        (b'["success"]', "the answer is not a JSON object", []),
    ],
)  # fmt: skip
def test_tutorial_node_mapping_failures(body, problem, missing):
    mapping = apply_response_mapping(MAPPING, 200, body)
    assert (mapping.edge, mapping.problem, mapping.missing) == ("error", problem, missing)


def test_node_body_placeholder_is_replaced_with_an_escaped_number():
    body = TUTORIAL_NODE["configuration"]["body"]
    assert json.loads(render_node_body(body, "tel:+15551234567")) == {"phoneNumber": "tel:+15551234567"}
    assert json.loads(render_node_body(body, 'x"y')) == {"phoneNumber": 'x"y'}


def test_docs_node_json_is_the_tutorial_node_and_says_it_cannot_be_imported():
    docs = (ROOT / "docs" / "genesys.md").read_text()
    section = docs.split("### The tutorial's node is not an importable action", 1)[1].split("\n## ", 1)[0]
    assert "cannot be\nimported anywhere" in section and "**Get\nExternal Contact**" in section
    node = json.loads(section.split("```json\n", 1)[1].split("```", 1)[0])
    config = node_configuration(node)
    tutorial = TUTORIAL_NODE["configuration"]
    assert (config["timeout"], config["responseMapping"], config["body"]) == (3000, MAPPING, tutorial["body"])
    assert (node["type"], node["edges"]) == ("GetExternalContactAction", TUTORIAL_NODE["edges"])
    assert 'Prompt: "Hello Alice, welcome back. We see you are a Gold tier member." -> VIP queue' in section


def test_readme_points_the_contact_center_engineer_at_docs_genesys():
    readme = (ROOT / "README.md").read_text()
    assert "`docs/genesys.md` is for the contact-center engineer" in readme
    assert "GetExternalContactAction" not in readme  # the node and its story live in docs/genesys.md
