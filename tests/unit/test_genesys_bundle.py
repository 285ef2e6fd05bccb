"""genesys_bundle: the files, the Terraform parsed and checked against the provider's documentation."""

import json
import re
from io import StringIO

import hcl2
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from genesys.bundle import PROVIDER_VERSION
from tests.servers import ROOT

DATA = ROOT / "tests" / "data" / "genesys"
GOLDEN_TRIGGERS = ROOT / "tests" / "golden" / "interactions" / "triggers.tf"

# Arguments per resource, from the genesyscloud provider's docs/resources/<name>.md ("Schema": Required /
# Optional) at v1.84.1 (MyPureCloud/terraform-provider-genesyscloud@f955430e6bd4, tag v1.84.1). Read-only `id`
# left out. processautomation_trigger's match_criteria is a JSON string at this version (a block before).
DOCUMENTED = {
    "genesyscloud_integration_credential": {"required": {"credential_type_name"}, "optional": {"fields", "name"}},
    "genesyscloud_integration": {"required": {"integration_type"}, "optional": {"config", "intended_state"}},
    "genesyscloud_integration_action": {
        "required": {"category", "contract_input", "contract_output", "integration_id", "name"},
        "optional": {"config_request", "config_response", "config_timeout_seconds", "function_config", "secure"},
    },
    "genesyscloud_flow": {
        "required": {"filepath"},
        "optional": {"force_unlock", "name", "substitutions", "type", "update_trigger_hash"},
    },
    "genesyscloud_processautomation_trigger": {
        "required": {"enabled", "name", "target", "topic_name"},
        "optional": {"delay_by_seconds", "description", "event_ttl_seconds", "match_criteria"},
    },
}
BLOCKS = {
    ("genesyscloud_integration", "config"): {"advanced", "credentials", "name", "notes", "properties"},
    ("genesyscloud_integration_action", "config_request"): {
        "headers",
        "request_template",
        "request_type",
        "request_url_template",
    },
    ("genesyscloud_integration_action", "config_response"): {
        "success_template",
        "translation_map",
        "translation_map_defaults",
    },
    ("genesyscloud_processautomation_trigger", "target"): {"id", "type", "workflow_target_settings"},
}
# Terraform's own meta-arguments are no provider's schema; for_each is the one the bundle uses.
META_ARGUMENTS = {"for_each"}
ACTION_KEYS = {
    "lookup_by_phone": "actions/lookup-by-phone.json",
    "lookup_by_id": "actions/lookup-by-id.json",
    "record_interaction": "actions/record-interaction.json",
}


def unquote(text: str) -> str:
    """python-hcl2 keeps the quotes of labels and string literals."""
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


@pytest.fixture
def bundle(tmp_path):
    """The bundle written for https://crm.example.com; (folder, stdout)."""
    out = StringIO()
    call_command(
        "genesys_bundle",
        "--base-url",
        "https://crm.example.com",
        "-o",
        str(tmp_path / "b"),
        stdout=out,
        stderr=StringIO(),
    )
    return tmp_path / "b", out.getvalue()


def command_output(name: str, *args: str) -> str:
    out = StringIO()
    call_command(name, *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_bundle_has_the_actions_the_flow_the_workflow_and_the_terraform(bundle):
    folder, stdout = bundle
    assert stdout.splitlines() == [
        str(folder / "actions/lookup-by-phone.json"),
        str(folder / "actions/lookup-by-id.json"),
        str(folder / "actions/record-interaction.json"),
        str(folder / "flow.yaml"),
        str(folder / "workflow.yaml"),
        str(folder / "main.tf"),
        str(folder / "triggers.tf"),
    ]
    assert (folder / "actions/lookup-by-phone.json").read_text() == command_output(
        "genesys_action", "--base-url", "https://crm.example.com"
    )
    assert (folder / "actions/lookup-by-id.json").read_text() == command_output(
        "genesys_action", "--base-url", "https://crm.example.com", "--kind", "by-id"
    )
    assert (folder / "actions/record-interaction.json").read_text() == command_output(
        "genesys_action", "--base-url", "https://crm.example.com", "--kind", "interaction"
    )
    assert (folder / "flow.yaml").read_text() == command_output("genesys_flow", "--placeholders")
    assert (folder / "workflow.yaml").read_text() == command_output("genesys_workflow", "--placeholders")
    assert (folder / "main.tf").read_text() == (DATA / "bundle" / "main.tf").read_text()  # golden file
    # The triggers' one golden file, the same genesys_workflow --triggers terraform is held to.
    assert (folder / "triggers.tf").read_text() == GOLDEN_TRIGGERS.read_text()


def configuration(folder) -> dict:
    """Every .tf file of the folder parsed and merged, block type -> blocks, as Terraform reads a module."""
    merged = {}
    for path in sorted(folder.glob("*.tf")):
        for kind, blocks in hcl2.loads(path.read_text()).items():
            merged.setdefault(kind, []).extend(blocks)
    return merged


def local_values(document: dict) -> dict:
    """name -> value of every locals block."""
    return {name: value for block in document["locals"] for name, value in block.items() if name != "__is_block__"}


def resources(document: dict) -> dict:
    """(type, label) -> arguments."""
    found = {}
    for entry in document["resource"]:
        for kind, labelled in entry.items():
            for label, body in labelled.items():
                found[(unquote(kind), unquote(label))] = body
    return found


def test_every_resource_argument_is_documented_by_the_provider(bundle):
    folder, _ = bundle
    document = configuration(folder)
    found = resources(document)
    assert sorted(found) == [
        ("genesyscloud_flow", "crm_lookup"),
        ("genesyscloud_flow", "record_interaction"),
        ("genesyscloud_integration", "crm_lookup"),
        ("genesyscloud_integration_action", "crm"),
        ("genesyscloud_integration_credential", "crm_lookup"),
        ("genesyscloud_processautomation_trigger", "crm_interaction"),
    ]
    # One instance per key of the local map each for_each names.
    locals_ = local_values(document)
    assert found[("genesyscloud_integration_action", "crm")]["for_each"] == "${local.crm_actions}"
    assert set(locals_["crm_actions"]) == set(ACTION_KEYS)
    trigger = found[("genesyscloud_processautomation_trigger", "crm_interaction")]
    assert trigger["for_each"] == "${local.crm_interaction_triggers}"
    assert list(locals_["crm_interaction_triggers"]) == ["customer_end", "acw"]
    for (kind, label), body in found.items():
        arguments = set(body) - {"__is_block__"} - META_ARGUMENTS
        spec = DOCUMENTED[kind]
        assert spec["required"] <= arguments, (kind, label)
        assert arguments <= spec["required"] | spec["optional"], (kind, label)
        for (block_kind, block), allowed in BLOCKS.items():
            if block_kind == kind and block in body:
                (inner,) = body[block]
                assert set(inner) - {"__is_block__"} <= allowed, (kind, block)
    integration = found[("genesyscloud_integration", "crm_lookup")]
    assert unquote(integration["integration_type"]) == "custom-rest-actions"
    assert integration["config"][0]["credentials"] == {
        "basicAuth": "${genesyscloud_integration_credential.crm_lookup.id}"
    }
    request = found[("genesyscloud_integration_action", "crm")]["config_request"][0]
    assert request["request_type"] == "${each.value.config.request.requestType}"
    provider = document["terraform"][0]["required_providers"][0]["genesyscloud"]
    assert (unquote(provider["source"]), unquote(provider["version"])) == ("mypurecloud/genesyscloud", "~> 1.84")
    assert PROVIDER_VERSION == "1.84.1"


def test_the_token_is_a_sensitive_variable_and_in_no_file(bundle, token):
    folder, _ = bundle
    document = hcl2.loads((folder / "main.tf").read_text())
    variables = {unquote(name): body for entry in document["variable"] for name, body in entry.items()}
    assert variables["lookup_token"]["sensitive"] is True and "default" not in variables["lookup_token"]
    credential = resources(document)[("genesyscloud_integration_credential", "crm_lookup")]
    assert credential["fields"] == {"token": "${var.lookup_token}"}
    for path in folder.rglob("*"):
        if path.is_file():
            assert token not in path.read_text()


def test_terraform_reads_what_the_bundle_holds(bundle):
    folder, _ = bundle
    text = (folder / "main.tf").read_text()
    document = configuration(folder)
    # Every file() the configuration reads is in the bundle; each action's key reads its own file.
    for match in re.finditer(r'file\("\$\{path\.module\}/([^"]+)"\)', text):
        assert (folder / match[1]).is_file()
    assert local_values(document)["crm_actions"] == {
        key: f'${{jsondecode(file("${{path.module}}/{path}"))}}' for key, path in ACTION_KEYS.items()
    }
    # Every each.value.X path the one action resource uses exists in all three actions.
    paths = set(re.findall(r"each\.value\.([\w.]+)", text))
    assert "config.request.requestType" in paths
    for path in ACTION_KEYS.values():
        action = json.loads((folder / path).read_text())
        for used in paths:
            value = action
            for part in used.split("."):
                value = value[part]
    # The flow's substitutions are exactly its {{placeholders}}.
    flow = (folder / "flow.yaml").read_text()
    substitutions = resources(document)[("genesyscloud_flow", "crm_lookup")]["substitutions"]
    assert set(substitutions) == set(re.findall(r"\{\{(\w+)\}\}", flow))
    assert (substitutions["phone_action"], substitutions["id_action"]) == (
        '${genesyscloud_integration_action.crm["lookup_by_phone"].name}',
        '${genesyscloud_integration_action.crm["lookup_by_id"].name}',
    )
    assert resources(document)[("genesyscloud_flow", "crm_lookup")]["filepath"] == '"${path.module}/flow.yaml"'
    # Likewise the workflow's, and the action it calls is the bundle's interaction action.
    workflow = resources(document)[("genesyscloud_flow", "record_interaction")]
    assert workflow["filepath"] == '"${path.module}/workflow.yaml"'
    assert set(workflow["substitutions"]) == set(re.findall(r"\{\{(\w+)\}\}", (folder / "workflow.yaml").read_text()))
    assert (
        workflow["substitutions"]["interaction_action"]
        == '${genesyscloud_integration_action.crm["record_interaction"].name}'
    )


def test_the_triggers_start_the_bundled_workflow_on_voice_calls(bundle):
    folder, _ = bundle
    document = configuration(folder)
    trigger = resources(document)[("genesyscloud_processautomation_trigger", "crm_interaction")]
    assert (trigger["name"], trigger["description"], trigger["topic_name"]) == (
        "${each.value.name}",
        "${each.value.description}",
        "${each.value.topic_name}",
    )
    assert trigger["enabled"] is True and trigger["event_ttl_seconds"] == 60
    (target,) = trigger["target"]
    assert target["id"] == "${genesyscloud_flow.record_interaction.id}"
    assert unquote(target["type"]) == "Workflow"
    assert target["workflow_target_settings"][0]["data_format"] == '"TopLevelPrimitives"'
    # python-hcl2 gives the expression back with the object's `:` written as `=`.
    assert (
        trigger["match_criteria"]
        == '${jsonencode([{"jsonPath" = "mediaType", "operator" = "Equal", "value" = "VOICE"}])}'
    )
    topics = {
        key: unquote(entry["topic_name"]) for key, entry in local_values(document)["crm_interaction_triggers"].items()
    }
    assert topics == {
        "customer_end": "v2.detail.events.conversation.{id}.customer.end",
        "acw": "v2.detail.events.conversation.{id}.acw",
    }
    # The very file genesys_workflow --triggers terraform prints: one definition, not two.
    assert command_output("genesys_workflow", "--triggers", "terraform") == (folder / "triggers.tf").read_text()
    assert "processautomation_trigger" not in (folder / "main.tf").read_text()


def test_bad_base_url_and_a_file_in_the_way_are_command_errors(tmp_path):
    with pytest.raises(CommandError) as error:
        call_command("genesys_bundle", "--base-url", "crm.example.com", "-o", str(tmp_path / "b"), stdout=StringIO())
    assert (
        str(error.value) == "--base-url must be an http(s) URL such as https://crm.example.com, not 'crm.example.com'."
    )
    (tmp_path / "file").write_text("x")
    with pytest.raises(CommandError) as error:
        call_command(
            "genesys_bundle", "--base-url", "https://x.example", "-o", str(tmp_path / "file"), stdout=StringIO()
        )
    assert str(error.value) == f"{tmp_path / 'file'} exists and is not a folder."
