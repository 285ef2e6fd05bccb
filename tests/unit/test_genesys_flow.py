"""genesys_flow: golden files, real flows' keys only, and where each kind of caller ends up."""

import json
from io import StringIO

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.servers import ROOT

DATA = ROOT / "tests" / "data" / "genesys"
ARCHY_KEYS = json.loads((DATA / "archy_keys.json").read_text())
# Names the author chooses, per action type (the same positions archy_keys.json writes <name>).
FREE = {
    "callData": [
        ("category",),
        ("category", "<name>", "dataAction"),
        ("category", "<name>", "dataAction", "<name>", "inputs"),
        ("category", "<name>", "dataAction", "<name>", "successOutputs"),
        ("category", "<name>", "dataAction", "<name>", "failureOutputs"),
    ]
}
DURATIONS = ("seconds", "minutes", "ms", "hours")


def flow(*args: str) -> str:
    out = StringIO()
    call_command("genesys_flow", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_default_flow_is_the_golden_file():
    assert flow() == (DATA / "flow.yaml").read_text()


def test_placeholder_flow_is_the_golden_file_and_substitutes_to_the_default():
    text = flow("--placeholders")
    assert text == (DATA / "flow-placeholders.yaml").read_text()
    # What genesyscloud_flow / archy --optionsFile do: replace each {{key}} by its value.
    substitutions = {
        "flow_name": "CRM caller lookup",
        "integration": "CRM lookup",
        "phone_action": "CRM customer lookup",
        "id_action": "CRM customer lookup by id",
        "vip_queue": "VIP",
        "general_queue": "General",
        "agent_queue": "General",
    }
    for key, value in substitutions.items():
        text = text.replace("{{" + key + "}}", value)
    assert yaml.safe_load(text) == yaml.safe_load(flow())


def test_options_name_the_flow_queues_integration_and_timeout():
    text = flow(
        "--flow-name", "Main line", "--integration", "Acme CRM", "--vip-queue", "Gold desk", "--general-queue",
        "Front desk", "--agent-queue", "Help desk", "--step-timeout", "5", "--phone-action", "By phone",
        "--id-action", "By id",
    )  # fmt: skip
    document = yaml.safe_load(text)["inboundCall"]
    assert document["name"] == "Main line"
    calls = list(find(document, "callData"))
    assert [list(call["category"]) for call in calls] == [["Acme CRM"]] * 3
    assert [list(call["category"]["Acme CRM"]["dataAction"]) for call in calls] == [["By phone"], ["By id"], ["By id"]]
    assert {call["timeout"]["lit"]["seconds"] for call in calls} == {5}
    queues = {transfer["targetQueue"]["lit"]["name"] for transfer in find(document, "transferToAcd")}
    assert queues == {"Gold desk", "Front desk", "Help desk"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--vip-queue", " "], "--vip-queue must not be empty."),
        (["--flow-name", "a\nb"], "--flow-name must be one line."),
        (["--step-timeout", "0"], "--step-timeout must be between 1 and 60 seconds."),
        (["--step-timeout", "61"], "--step-timeout must be between 1 and 60 seconds."),
    ],
)
def test_bad_options_are_command_errors(args, message):
    with pytest.raises(CommandError) as error:
        flow(*args)
    assert str(error.value) == message


def test_o_writes_the_same_bytes(tmp_path):
    target = tmp_path / "flow.yaml"
    err = StringIO()
    call_command("genesys_flow", "-o", str(target), stdout=StringIO(), stderr=err)
    assert target.read_text() == flow()
    assert err.getvalue() == f"Wrote {target}: publish it with archy publish --file {target} (see docs/genesys.md).\n"


# -- every key we emit appears in a real published flow of that action type -----------------


def find(node, kind: str):
    """Every action body of this kind, anywhere in the document."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == kind:
                yield value
            yield from find(value, kind)
    elif isinstance(node, list):
        for item in node:
            yield from find(item, kind)


def key_paths(kind: str, body, prefix=()):
    """Key paths of an action body, as archy_keys.json writes them; nested actions are checked on their own."""
    if isinstance(body, dict):
        for key, value in body.items():
            name = "<name>" if prefix in FREE.get(kind, []) else str(key)
            if prefix[-1:] == ("lit",) and name in DURATIONS:
                name = "<duration>"
            yield ".".join((*prefix, name))
            if name != "actions":
                yield from key_paths(kind, value, (*prefix, name))
    elif isinstance(body, list):
        for item in body:
            yield from key_paths(kind, item, (*prefix, "[]"))


def actions_of(node):
    """(kind, body) of every action in every actions list."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "actions" and isinstance(value, list):
                for action in value:
                    ((kind, body),) = action.items()
                    yield kind, body
            yield from actions_of(value)
    elif isinstance(node, list):
        for item in node:
            yield from actions_of(item)


@pytest.mark.parametrize("args", [[], ["--placeholders"]])
def test_every_emitted_key_appears_in_a_published_flow_of_that_action_type(args):
    document = yaml.safe_load(flow(*args))
    inbound = document["inboundCall"]
    assert list(document) == ["inboundCall"]
    top = {key for key in inbound} | {f"initialGreeting.{key}" for key in inbound["initialGreeting"]}
    assert top <= set(ARCHY_KEYS["flow"]["inboundCall"])
    for item in inbound["tasks"]:
        task = item["task"]
        assert set(task) <= set(ARCHY_KEYS["task"])
        for variable in task["variables"]:
            ((kind, body),) = variable.items()
            paths = {f"{kind}.{key}" for key in body} | {f"{kind}.initialValue.{key}" for key in body["initialValue"]}
            assert paths <= set(ARCHY_KEYS["variable"])
    seen = set()
    for kind, body in actions_of(inbound):
        allowed = set(ARCHY_KEYS["actions"][kind]) | set(ARCHY_KEYS["documented_only"].get(kind, {}))
        assert set(key_paths(kind, body)) - allowed == set(), kind
        seen.add(kind)
    assert seen == {"callData", "decision", "transferToAcd", "collectInput", "disconnect"}


def test_documented_only_keys_are_few_and_said():
    assert ARCHY_KEYS["documented_only"] == {
        "collectInput": {"digits.range.terminatingDtmf": ARCHY_KEYS["documented_only"]["collectInput"][
            "digits.range.terminatingDtmf"
        ]}
    }  # fmt: skip
    assert len(ARCHY_KEYS["sources"]) >= 20 and all("@" in source for source in ARCHY_KEYS["sources"])


# -- where each caller ends up: the flow, walked -----------------------------------------------


def walk(actions: list, world: dict, heard: list) -> str | None:
    """Run a list of actions; the queue the caller is transferred to, or None to go on with the next list."""
    for action in actions:
        ((kind, body),) = action.items()
        if kind == "callData":
            ((integration,),) = [list(body["category"])]
            ((name, call),) = body["category"][integration]["dataAction"].items()
            exit_, outputs = world["calls"].pop(0)
            assert name == world["expect"].pop(0)
            if exit_ == "success":
                for key, target in call["successOutputs"].items():
                    world["vars"][target["var"]] = outputs[key]
            branch = body["outputs"].get(exit_)
        elif kind == "decision":
            assert body["condition"]["exp"] == 'Task.status == "success"'
            branch = body["outputs"].get("yes" if world["vars"]["Task.status"] == "success" else "no")
        elif kind == "collectInput":
            heard.append(body["inputAudio"]["tts"])
            digits = world["digits"].pop(0)
            world["vars"][body["inputData"]["var"]] = digits
            branch = body["outputs"]["success"] if digits else None
        elif kind == "transferToAcd":
            audio = body["preTransferAudio"]
            heard.append(audio.get("tts") or audio["exp"])
            return body["targetQueue"]["lit"]["name"]
        elif kind == "disconnect":
            return "(disconnected)"
        if branch:
            queue = walk(branch["actions"], world, heard)
            if queue:
                return queue
    return None


FOUND = ("success", {"status": "success", "customerId": "CUST-001", "firstName": "Alice", "lastName": "Smith",
                     "tier": "Gold", "lastInteractionDate": "2023-10-15"})  # fmt: skip
NOT_FOUND = ("success", {"status": "not_found", **dict.fromkeys(FOUND[1].keys() - {"status"}, "")})
VIP_AUDIO = 'ToAudioTTS("Hello " + Task.firstName + ", welcome back. We see you are a " + Task.tier + " tier member.")'
ASK = "Please enter your customer number, then press the pound key."
RETRY = "Sorry, we could not find that customer number. Please enter it again, then press the pound key."
ERROR = "We are experiencing technical difficulties"
GENERAL = "Thank you for calling. Please hold for the next available agent."
PHONE, BY_ID = "CRM customer lookup", "CRM customer lookup by id"


@pytest.mark.parametrize(
    ("calls", "digits", "queue", "heard"),
    [
        ([FOUND], [], "VIP", [VIP_AUDIO]),
        ([("failure", None)], [], "General", [ERROR]),
        ([("timeout", None)], [], "General", [ERROR]),
        ([NOT_FOUND, FOUND], ["001"], "VIP", [ASK, VIP_AUDIO]),
        ([NOT_FOUND, NOT_FOUND, FOUND], ["9", "1"], "VIP", [ASK, RETRY, VIP_AUDIO]),
        ([NOT_FOUND, NOT_FOUND, NOT_FOUND], ["9", "8"], "General", [ASK, RETRY, GENERAL]),
        ([NOT_FOUND], [None, None], "General", [ASK, RETRY, GENERAL]),  # no digits at all
        ([NOT_FOUND, ("timeout", None)], ["1"], "General", [ASK, ERROR]),
    ],
)
def test_every_caller_reaches_a_queue(calls, digits, queue, heard):
    inbound = yaml.safe_load(flow())["inboundCall"]
    expect = [PHONE] + [BY_ID] * (len(calls) - 1)
    world = {"calls": list(calls), "digits": list(digits), "vars": {}, "expect": expect}
    spoken: list = []
    assert walk(inbound["tasks"][0]["task"]["actions"], world, spoken) == queue
    assert spoken == heard
    assert world["calls"] == [] and world["digits"] == []


def test_the_phone_lookup_maps_call_ani_and_every_output():
    inbound = yaml.safe_load(flow())["inboundCall"]
    first = inbound["tasks"][0]["task"]["actions"][0]["callData"]
    call = first["category"]["CRM lookup"]["dataAction"]["CRM customer lookup"]
    assert call["inputs"] == {"phoneNumber": {"exp": "Call.Ani"}}
    assert call["successOutputs"] == {
        key: {"var": f"Task.{key}"}
        for key in ("status", "customerId", "firstName", "lastName", "tier", "lastInteractionDate")
    }
    assert first["timeout"] == {"lit": {"seconds": 4}}  # a little above the action's timeoutSeconds (3)
    assert inbound["startUpRef"] == "./tasks/task[identifyCaller]"
