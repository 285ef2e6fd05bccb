"""The write-back kit: genesys_action --kind interaction, genesys_workflow and its two triggers.

Golden files under tests/golden/interactions/ are the exact exports; after an intended change,
rewrite them with the commands in each test and review the diff.
"""

import json
import re
from io import StringIO
from pathlib import Path

import hcl2
import pytest
import yaml
from django.core.management import CommandError, call_command

from crm.models import Interaction
from genesys.execute import SUCCESS, execute, render_request
from genesys.interactions import (
    ACW_TOPIC,
    CUSTOMER_END_TOPIC,
    EVENT_EXPRESSION,
    INPUTS,
    build_interaction_action,
    build_triggers,
    build_workflow,
    workflow_yaml,
)
from tests.contract import customer_end_event
from tests.servers import gunicorn

GOLDEN = Path(__file__).parent.parent / "golden" / "interactions"
BASE = "https://crm.example.com"
CONV = "5b0b9c8e-4a5f-4f3e-9d7a-0c2e8f6a1b23"


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("args", "golden"),
    [
        (["genesys_action", "--kind", "interaction", "--base-url", BASE], "action.json"),
        (["genesys_workflow"], "workflow.yaml"),
        (["genesys_workflow", "--placeholders"], "workflow-placeholders.yaml"),
        (["genesys_workflow", "--triggers", "json"], "triggers.json"),
        (["genesys_workflow", "--triggers", "terraform"], "triggers.tf"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_exports_match_their_golden_files(args, golden):
    assert run(*args) == (GOLDEN / golden).read_text()


def test_o_writes_the_same_bytes(tmp_path):
    target = tmp_path / "workflow.yaml"
    call_command("genesys_workflow", "-o", str(target), stderr=StringIO())
    assert target.read_text() == (GOLDEN / "workflow.yaml").read_text()


# -- the data action ---------------------------------------------------------------------


def test_action_contract_lists_every_field_the_endpoint_reads():
    action = build_interaction_action(BASE)
    schema = action["contract"]["input"]["inputSchema"]
    assert list(schema["properties"]) == [
        "conversationId",
        "event",
        "eventTime",
        "ani",
        "dnis",
        "direction",
        "mediaType",
        "disconnectType",
        "durationMs",
        "queueId",
        "userId",
        "wrapupCode",
        "wrapupNotes",
    ]
    assert schema["required"] == ["conversationId", "event", "eventTime"]
    assert action["config"]["request"]["requestUrlTemplate"] == "https://crm.example.com/api/interactions"
    assert action["config"]["request"]["headers"] == {
        "Authorization": "Bearer ${credentials.token}",
        "Content-Type": "application/json",
    }
    assert list(action["config"]["response"]["translationMap"]) == ["status", "conversationId", "customerId"]
    assert "status" not in action["config"]["response"]["translationMapDefaults"]


def test_rendered_body_of_a_wrapup_event_is_json_with_empty_strings_for_what_it_lacks():
    action = build_interaction_action(BASE)
    inputs = {
        "conversationId": CONV,
        "event": "after_call_work",
        "eventTime": 1709649150000,
        "queueId": "q-1",
        "userId": "u-1",
        "wrapupCode": "Resolved",
        "wrapupNotes": 'Said "thanks"\nand hung up',
    }
    request = render_request(action, inputs, {"token": "t0ken"})
    assert request.headers["Authorization"] == "Bearer t0ken"
    assert json.loads(request.body) == {
        "conversationId": CONV,
        "event": "after_call_work",
        "eventTime": "1709649150000",
        "ani": "",
        "dnis": "",
        "direction": "",
        "mediaType": "",
        "disconnectType": "",
        "durationMs": "",
        "queueId": "q-1",
        "userId": "u-1",
        "wrapupCode": "Resolved",
        "wrapupNotes": 'Said "thanks"\nand hung up',
    }


def test_interaction_action_is_post_only():
    with pytest.raises(CommandError, match=r"^--kind interaction is a POST action: it sends a JSON body\.$"):
        call_command("genesys_action", "--kind", "interaction", "--method", "GET", "--base-url", BASE)


def test_bad_base_url_is_a_command_error():
    with pytest.raises(CommandError, match="--base-url must be an http"):
        call_command("genesys_action", "--kind", "interaction", "--base-url", "crm.example.com")


@pytest.mark.server
@pytest.mark.django_db(transaction=True)
def test_exported_action_records_both_events_on_a_live_server(alice, token):
    """The action executed as Genesys does (Velocity, translation map, output contract) against gunicorn."""
    end = customer_end_event(CONV, 1709649000000)
    acw = {"conversationId": CONV, "event": "after_call_work", "eventTime": 1709649150000, "wrapupCode": "Resolved"}
    with gunicorn(workers=1) as (url, _):
        action = build_interaction_action(url)
        results = [execute(action, inputs, {"token": token}, step_timeout_s=10) for inputs in (acw, end, end)]
        refused = execute(action, end, {"token": "wrong-token-000000000000"}, step_timeout_s=10)
    assert [(r.exit, r.outputs) for r in results] == [
        (SUCCESS, {"status": "created", "conversationId": CONV, "customerId": ""}),
        (SUCCESS, {"status": "updated", "conversationId": CONV, "customerId": "CUST-001"}),
        (SUCCESS, {"status": "unchanged", "conversationId": CONV, "customerId": "CUST-001"}),
    ]
    assert (refused.exit, refused.problem) == ("Failure", "HTTP 401")
    interaction = Interaction.objects.get()
    assert (interaction.wrapup_code, interaction.duration_ms, interaction.customer_id) == ("Resolved", 95000, alice.pk)


# -- the workflow ------------------------------------------------------------------------


def keys(node) -> set[str]:
    if isinstance(node, dict):
        return set(node).union(*(keys(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(keys(item) for item in node))
    return set()


# Keys the workflow uses beyond the disconnected-call blueprint, each seen in published Archy flows:
# integerVariable (the Integer sibling of stringVariable), successOutputs and var (a callData's
# outputs mapped to variables, as in design-architect-flow-data-actions-for-resiliency).
EXTRA_KEYS = {"integerVariable", "successOutputs", "var"}


def test_workflow_uses_only_the_published_structure():
    workflow = build_workflow()
    ours = {k for k in keys(workflow) if not re.match(r"(Flow|State)\.", k)}
    action = workflow["workflow"]["states"][0]["state"]["actions"][1]["callData"]
    # The names of the integration, the action and its inputs/outputs are data, not structure.
    data = {"CRM lookup", "CRM record interaction", *(name for name, _, _ in INPUTS), "customerId"}
    published = set(json.loads((GOLDEN / "blueprint_keys.json").read_text())["keys"])
    assert ours - data - published == EXTRA_KEYS
    assert list(action["outputs"]) == ["success", "failure", "timeout"]


# What each trigger's event carries besides conversationId (the table in docs/genesys.md).
CUSTOMER_END_FIELDS = ["ani", "dnis", "direction", "mediaType", "disconnectType", "interactingDurationMs", "eventTime"]
ACW_FIELDS = ["userId", "queueId", "wrapupCode", "wrapupNotes", "eventTime", "ani", "dnis", "direction", "mediaType"]


def test_workflow_inputs_are_the_trigger_fields():
    variables = build_workflow()["workflow"]["variables"]
    inputs = [inner["name"] for variable in variables for inner in variable.values() if inner["isInput"]]
    assert sorted(inputs) == sorted({f"Flow.{name}" for name in ["conversationId", *CUSTOMER_END_FIELDS, *ACW_FIELDS]})


def test_workflow_names_the_event_by_the_agent_only_acw_carries():
    statement = build_workflow()["workflow"]["states"][0]["state"]["actions"][0]["updateData"]["statements"][0]
    assert statement == {"string": {"variable": "State.event", "value": {"exp": EVENT_EXPRESSION}}}
    assert EVENT_EXPRESSION == 'If(IsSet(Flow.userId), "after_call_work", "customer_end")'


def test_failure_and_timeout_wait_and_retry_once_then_end_with_a_reason():
    call = build_workflow()["workflow"]["states"][0]["state"]["actions"][1]["callData"]
    for exit_ in ("failure", "timeout"):
        wait, retry = call["outputs"][exit_]["actions"]
        assert wait["wait"]["duration"] == {"lit": {"seconds": 10}}
        again = retry["callData"]
        assert again["category"] == call["category"]
        for final in ("failure", "timeout"):
            (end,) = again["outputs"][final]["actions"]
            assert end["endWorkflow"]["exitReason"] == {
                "lit": "The CRM did not record the event after a retry; see State.errorCode."
            }


def test_workflow_yaml_round_trips_without_anchors():
    text = workflow_yaml(build_workflow())
    assert "&id" not in text and "*id" not in text
    assert yaml.safe_load(text) == build_workflow()


def test_action_names_are_unique():
    names = []

    def collect(node):
        if isinstance(node, dict):
            for key, value in node.items():
                # settingsErrorHandling's endWorkflow is a setting, not an action: it has no name.
                if key in {"callData", "wait", "updateData", "endWorkflow"} and "name" in value:
                    names.append(value["name"])
                collect(value)
        elif isinstance(node, list):
            for item in node:
                collect(item)

    collect(build_workflow())
    assert len(names) == len(set(names)) == 14


@pytest.mark.parametrize("option", ["--flow-name", "--integration", "--action-name", "--division"])
def test_empty_or_multiline_names_are_refused(option):
    with pytest.raises(CommandError, match=rf"^{option} must be one non-empty line\.$"):
        call_command("genesys_workflow", option, "two\nlines")


# -- the triggers ------------------------------------------------------------------------


def test_trigger_bodies_for_the_api():
    customer_end, acw = build_triggers("wf-123")
    assert customer_end == {
        "name": "CRM interaction: customer end",
        "description": "A voice call's customer hung up: record the interaction and match the caller.",
        "topicName": "v2.detail.events.conversation.{id}.customer.end",
        "enabled": True,
        "target": {"type": "Workflow", "id": "wf-123", "workflowTargetSettings": {"dataFormat": "TopLevelPrimitives"}},
        "matchCriteria": [{"jsonPath": "mediaType", "operator": "Equal", "value": "VOICE"}],
        "eventTTLSeconds": 60,
    }
    assert (acw["topicName"], acw["matchCriteria"]) == (ACW_TOPIC, customer_end["matchCriteria"])
    assert CUSTOMER_END_TOPIC.count("{id}") == ACW_TOPIC.count("{id}") == 1


def test_workflow_id_with_spaces_is_refused():
    with pytest.raises(CommandError, match=r"^--workflow-id must be the published workflow's id, without spaces\.$"):
        call_command("genesys_workflow", "--triggers", "json", "--workflow-id", "a b")


def test_terraform_triggers_parse_and_mirror_the_api_bodies():
    parsed = hcl2.loads((GOLDEN / "triggers.tf").read_text())
    # python-hcl2 keeps the quotes of block labels and string literals.
    resources = {
        label.strip('"'): body
        for block in parsed["resource"]
        for kind, named in block.items()
        if kind.strip('"') == "genesyscloud_processautomation_trigger"
        for label, body in named.items()
    }
    assert sorted(resources) == ["crm_interaction"]
    trigger = resources["crm_interaction"]
    assert trigger["for_each"] == "${local.crm_interaction_triggers}"
    assert trigger["event_ttl_seconds"] == 60
    # One instance per API body: the local map holds what differs, name, description and topic.
    (entries,) = (block["crm_interaction_triggers"] for block in parsed["locals"])
    assert {
        key: {argument: value.strip('"') for argument, value in entry.items()} for key, entry in entries.items()
    } == {
        key: {"name": body["name"], "description": body["description"], "topic_name": body["topicName"]}
        for key, body in zip(["customer_end", "acw"], build_triggers(), strict=True)
    }
    text = (GOLDEN / "triggers.tf").read_text()
    assert text.count('data_format = "TopLevelPrimitives"') == 1
    assert text.count("id   = genesyscloud_flow.record_interaction.id") == 1
    assert text.count('jsonencode([{"jsonPath": "mediaType", "operator": "Equal", "value": "VOICE"}])') == 1
