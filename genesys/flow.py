"""The Archy inbound call flow (YAML) that looks the caller up and routes them, built from real flows' structures.

Structures follow published flows (sources in docs/genesys.md and tests/data/genesys/archy_keys.json):
callData with category / dataAction / inputs / successOutputs and success, failure and timeout
outputs; decision; collectInput with a digit range; transferToAcd with a literal queue name.
"""

from dataclasses import dataclass

import yaml

from genesys.actions import (
    ASK_ID_PROMPT,
    DEFAULT_BY_ID_NAME,
    DEFAULT_NAME,
    ERROR_PROMPT,
    GENERAL_PROMPT,
    OUTPUT_FIELDS,
    RETRY_ID_PROMPT,
    STEP_TIMEOUT_SECONDS,
    GenesysError,
)

TASK_REF = "identifyCaller"
TYPED_ID = "Task.typedCustomerId"
# Customer numbers are short; a keypad gives digits only (lookup-by-id adds the prefix back).
MAX_ID_DIGITS = 12


@dataclass(frozen=True)
class FlowOptions:
    """What the contact-center engineer names: the flow, the integration, the actions, the queues."""

    flow_name: str = "CRM caller lookup"
    integration: str = "CRM lookup"  # the Web Services Data Actions integration: the callData category
    phone_action: str = DEFAULT_NAME
    id_action: str = DEFAULT_BY_ID_NAME
    vip_queue: str = "VIP"
    general_queue: str = "General"
    agent_queue: str = "General"  # where Failure and Timeout send the caller: an agent, never a hang-up
    step_timeout_seconds: int = STEP_TIMEOUT_SECONDS
    default_language: str = "en-us"


# The {{key}} of each option when the flow is written for archy --optionsFile or genesyscloud_flow substitutions.
SUBSTITUTED = ("flow_name", "integration", "phone_action", "id_action", "vip_queue", "general_queue", "agent_queue")


def placeholders(options: FlowOptions) -> FlowOptions:
    """The same options with every name a {{substitution}}."""
    values = {key: "{{" + key + "}}" for key in SUBSTITUTED}
    return FlowOptions(**values, step_timeout_seconds=options.step_timeout_seconds)


def check(options: FlowOptions) -> None:
    """Refuse options Genesys would refuse, with the reason."""
    for key in SUBSTITUTED:
        value = getattr(options, key)
        if not value.strip():
            raise GenesysError(f"--{key.replace('_', '-')} must not be empty.")
        if any(ch in value for ch in "\n\r"):
            raise GenesysError(f"--{key.replace('_', '-')} must be one line.")
    if not 1 <= options.step_timeout_seconds <= 60:
        raise GenesysError("--step-timeout must be between 1 and 60 seconds.")


def vip_transfer(options: FlowOptions) -> dict:
    """The VIP greeting with first name and tier, then the VIP queue; if that transfer fails, an agent."""
    greeting = (
        'ToAudioTTS("Hello " + Task.firstName + ", welcome back. We see you are a " + Task.tier + " tier member.")'
    )
    return transfer("Transfer to the VIP queue", options.vip_queue, {"exp": greeting}, options)


def transfer(name: str, queue: str, audio: dict, options: FlowOptions, *, fallback: bool = True) -> dict:
    """transferToAcd as published flows write it; a failed transfer goes to the agent queue."""
    body = {
        "name": name,
        "targetQueue": {"lit": {"name": queue}},
        "preTransferAudio": audio,
        "failureTransferAudio": {"exp": "ToAudioBlank(1)"},
        "priority": {"lit": 0},
        "preferredAgents": {"noValue": True},
        "languageSkill": {"noValue": True},
        "failureOutputs": {"errorType": {"noValue": True}, "errorMessage": {"noValue": True}},
    }
    if fallback:
        body["outputs"] = {"failure": {"actions": [error_transfer(options)]}}
    return {"transferToAcd": body}


def error_transfer(options: FlowOptions) -> dict:
    """Failure and Timeout: tell the caller and hand them to an agent."""
    return transfer("Transfer to an agent", options.agent_queue, {"tts": ERROR_PROMPT}, options, fallback=False)


def lookup(name: str, action: str, inputs: dict, options: FlowOptions) -> dict:
    """A Call Data Action step: outputs into task variables, found -> VIP, Failure / Timeout -> an agent."""
    return {
        "callData": {
            "name": name,
            "processingPrompt": {"noValue": True},
            "timeout": {"lit": {"seconds": options.step_timeout_seconds}},
            "category": {
                options.integration: {
                    "dataAction": {
                        action: {
                            "inputs": inputs,
                            "successOutputs": {key: {"var": f"Task.{key}"} for key in OUTPUT_FIELDS},
                        }
                    }
                }
            },
            "outputs": {
                "success": {
                    "actions": [
                        {
                            "decision": {
                                "name": "Found?",
                                "condition": {"exp": 'Task.status == "success"'},
                                "outputs": {"yes": {"actions": [vip_transfer(options)]}},
                            }
                        }
                    ]
                },
                "failure": {"actions": [error_transfer(options)]},
                "timeout": {"actions": [error_transfer(options)]},
            },
        }
    }


def ask_customer_number(name: str, prompt: str, options: FlowOptions) -> dict:
    """Collect the customer number (digits, then #) and look it up by id."""
    return {
        "collectInput": {
            "name": name,
            "inputData": {"var": TYPED_ID},
            "digits": {"range": {"terminatingDtmf": "digit_#", "min": 1, "max": MAX_ID_DIGITS}},
            "interDigitTimeout": {"noValue": True},
            "noEntryTimeout": {"lit": {"seconds": 5}},
            "inputAudio": {"tts": prompt},
            "acceptJustStar": {"lit": False},
            "acceptJustPound": {"lit": False},
            "verificationType": "none",
            "outputs": {
                "success": {
                    "actions": [
                        lookup(
                            "Look up the customer number", options.id_action, {"customerId": {"exp": TYPED_ID}}, options
                        )
                    ]
                }
            },
        }
    }


def build_flow(options: FlowOptions) -> dict:
    """The inbound call flow: phone lookup; not found -> ask for the number twice; then the general queue."""
    check(options)
    variables = [
        {"stringVariable": {"name": f"Task.{key}", "initialValue": {"noValue": True}}} for key in OUTPUT_FIELDS
    ]
    variables.append({"stringVariable": {"name": TYPED_ID, "initialValue": {"noValue": True}}})
    actions = [
        lookup("Look up the caller", options.phone_action, {"phoneNumber": {"exp": "Call.Ani"}}, options),
        # Reached when the caller's number is not a customer's (or withheld): ask, then ask once more.
        ask_customer_number("Ask for the customer number", ASK_ID_PROMPT, options),
        ask_customer_number("Ask again for the customer number", RETRY_ID_PROMPT, options),
        transfer("Transfer to the general queue", options.general_queue, {"tts": GENERAL_PROMPT}, options),
        {"disconnect": {"name": "Disconnect", "none": True}},  # only if every transfer failed
    ]
    return {
        "inboundCall": {
            "name": options.flow_name,
            "description": "Looks the caller up in the CRM (Call.Ani, else the customer number) and routes VIP / general.",
            "defaultLanguage": options.default_language,
            "startUpRef": f"./tasks/task[{TASK_REF}]",
            "initialGreeting": {"exp": "ToAudioBlank(1)"},
            "tasks": [
                {"task": {"name": "Identify the caller", "refId": TASK_REF, "variables": variables, "actions": actions}}
            ],
        }
    }


class _Dumper(yaml.SafeDumper):
    """Indents list items under their key, as published Archy flows are written."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def flow_yaml(flow: dict) -> str:
    """Stable YAML text: the structure's key order, block style, long lines kept whole."""
    return yaml.dump(flow, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=4096)
