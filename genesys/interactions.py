"""Writing conversations back: the data action for POST /api/interactions, the Archy workflow that calls
it, and the two Process Automation triggers that start the workflow (customer end and after-call work).

Structures follow GenesysCloudBlueprints/automatic-offer-callback-for-disconnected-call
(terraform/modules/trigger/trigger.tf, terraform/modules/flow/Send SMS to Schedule Callback.yaml) and
the platform SDKs' Customerenddetaileventtopiccustomerendevent / Acwdetaileventtopicaftercallworkevent
models; sources in docs/genesys.md.
"""

import json

import yaml

from genesys.actions import AUTHORIZATION_TEMPLATE, EMPTY_STRING_DEFAULT, GenesysError, clean_base_url

# The server's path, written here too: genesys imports nothing from lookup (design §2).
INTERACTIONS_PATH = "/api/interactions"
DEFAULT_ACTION_NAME = "CRM record interaction"
DEFAULT_WORKFLOW_NAME = "CRM record interaction"
DEFAULT_INTEGRATION = "CRM lookup"
# Nobody waits on a workflow: a slow answer may take longer than a call flow's 3 s budget.
TIMEOUT_SECONDS = 10
# After a failure the workflow waits, then tries once more (the endpoint is idempotent).
RETRY_WAIT_SECONDS = 10

CUSTOMER_END_TOPIC = "v2.detail.events.conversation.{id}.customer.end"
ACW_TOPIC = "v2.detail.events.conversation.{id}.acw"
# Genesys drops an event it could not hand to the workflow within this many seconds (at least 10).
EVENT_TTL_SECONDS = 60
WORKFLOW_ID_PLACEHOLDER = "<WORKFLOW_ID>"

# The action's inputs: (name, JSON type, description). Strings and integers as Genesys sends them.
INPUTS = (
    ("conversationId", "string", "Flow.conversationId"),
    ("event", "string", "customer_end or after_call_work"),
    ("eventTime", "integer", "Flow.eventTime: milliseconds since the epoch"),
    ("ani", "string", "Flow.ani, e.g. tel:+15551234567"),
    ("dnis", "string", "Flow.dnis"),
    ("direction", "string", "Flow.direction: INBOUND or OUTBOUND"),
    ("mediaType", "string", "Flow.mediaType, e.g. VOICE"),
    ("disconnectType", "string", "Flow.disconnectType (customer end only)"),
    ("durationMs", "integer", "Flow.interactingDurationMs (customer end only)"),
    ("queueId", "string", "Flow.queueId (after-call work only)"),
    ("userId", "string", "Flow.userId: the agent (after-call work only)"),
    ("wrapupCode", "string", "Flow.wrapupCode (after-call work only)"),
    ("wrapupNotes", "string", "Flow.wrapupNotes (after-call work only)"),
)
REQUIRED_INPUTS = ("conversationId", "event", "eventTime")
OUTPUT_FIELDS = ("status", "conversationId", "customerId")


def request_template() -> str:
    """Every value quoted and escaped; an unset input is "" (the endpoint reads "" as absent, digits as numbers)."""
    pairs = ", ".join(f'"{name}": "$!esc.jsonString(${{input.{name}}})"' for name, _, _ in INPUTS)
    return "{" + pairs + "}"


def build_interaction_action(base_url: str, *, name: str | None = None) -> dict:
    """The data action (export format) that posts one conversation event to the CRM."""
    url = clean_base_url(base_url) + INTERACTIONS_PATH
    return {
        "name": (name or "").strip() or DEFAULT_ACTION_NAME,
        "integrationType": "custom-rest-actions",
        "actionType": "custom",
        "config": {
            "request": {
                "requestUrlTemplate": url,
                "requestType": "POST",
                "headers": {"Authorization": AUTHORIZATION_TEMPLATE, "Content-Type": "application/json"},
                "requestTemplate": request_template(),
            },
            "response": {
                "translationMap": {
                    "status": "$.status",
                    "conversationId": "$.data.conversationId",
                    "customerId": "$.data.customerId",
                },
                # No default for status: an answer without it is a failure, not a recorded event.
                "translationMapDefaults": {"conversationId": EMPTY_STRING_DEFAULT, "customerId": EMPTY_STRING_DEFAULT},
                "successTemplate": "{" + ", ".join(f'"{key}": ${{{key}}}' for key in OUTPUT_FIELDS) + "}",
            },
            "timeoutSeconds": TIMEOUT_SECONDS,
        },
        "contract": {
            "input": {
                "inputSchema": {
                    "$schema": "http://json-schema.org/draft-04/schema#",
                    "title": "Conversation event",
                    "description": "One event of a conversation, as the workflow's trigger hands it over.",
                    "type": "object",
                    "required": list(REQUIRED_INPUTS),
                    "properties": {n: {"type": t, "description": d} for n, t, d in INPUTS},
                    "additionalProperties": True,
                }
            },
            "output": {
                "successSchema": {
                    "$schema": "http://json-schema.org/draft-04/schema#",
                    "title": "Recorded interaction",
                    "type": "object",
                    "properties": {
                        "status": {"type": "string", "description": "created, updated or unchanged"},
                        "conversationId": {"type": "string", "description": "the conversation recorded"},
                        "customerId": {"type": "string", "description": "the matched customer; empty when unknown"},
                    },
                    "additionalProperties": True,
                }
            },
        },
        "secure": False,
    }


# -- the workflow --------------------------------------------------------------------------

STATE_REF = "Record interaction_10"
# Flow inputs: the trigger's TopLevelPrimitives data format hands each top-level field of the
# event to the workflow input of the same name (the blueprint's Flow.ani, Flow.conversationId).
STRING_INPUTS = (
    "conversationId",
    "ani",
    "dnis",
    "direction",
    "mediaType",
    "disconnectType",
    "queueId",
    "userId",
    "wrapupCode",
    "wrapupNotes",
)
INTEGER_INPUTS = ("eventTime", "interactingDurationMs")
# Only the acw event carries the agent: that tells the two events apart in one workflow.
EVENT_EXPRESSION = 'If(IsSet(Flow.userId), "after_call_work", "customer_end")'
SUBSTITUTED = ("flow_name", "division", "integration", "interaction_action")
# genesys_workflow's option for each name, where the two differ.
OPTIONS = {"interaction_action": "action-name"}


def _input(kind: str, name: str) -> dict:
    return {
        f"{kind}Variable": {
            "name": f"Flow.{name}",
            "initialValue": {"noValue": True},
            "isInput": True,
            "isOutput": False,
        }
    }


def _state_variable(name: str) -> dict:
    return {
        "stringVariable": {
            "name": f"State.{name}",
            "initialValue": {"noValue": True},
            "isInput": False,
            "isOutput": False,
        }
    }


# The failure outputs every published callData lists, mapped to nothing but the error code.
FAILURE_OUTPUTS = (
    "errorCode",
    "status",
    "correlationId",
    "entityId",
    "entityName",
    "userMessage",
    "userParamsMessage",
    "userParams.key",
    "userParams.value",
    "details.errorCode",
    "details.fieldName",
    "details.entityId",
    "details.entityName",
)


def _call(name: str, integration: str, action: str, *, success: list, failure: list, timeout: list) -> dict:
    inputs = {
        "conversationId": {"exp": "Flow.conversationId"},
        "event": {"exp": "State.event"},
        "eventTime": {"exp": "Flow.eventTime"},
        "ani": {"exp": "Flow.ani"},
        "dnis": {"exp": "Flow.dnis"},
        "direction": {"exp": "Flow.direction"},
        "mediaType": {"exp": "Flow.mediaType"},
        "disconnectType": {"exp": "Flow.disconnectType"},
        "durationMs": {"exp": "Flow.interactingDurationMs"},
        "queueId": {"exp": "Flow.queueId"},
        "userId": {"exp": "Flow.userId"},
        "wrapupCode": {"exp": "Flow.wrapupCode"},
        "wrapupNotes": {"exp": "Flow.wrapupNotes"},
    }
    failure_outputs = {key: {"noValue": True} for key in FAILURE_OUTPUTS}
    failure_outputs["errorCode"] = {"var": "State.errorCode"}
    return {
        "callData": {
            "name": name,
            "timeout": {"lit": {"minutes": 1}},
            "category": {
                integration: {
                    "dataAction": {
                        action: {
                            "inputs": inputs,
                            "successOutputs": {
                                "status": {"var": "State.status"},
                                "customerId": {"var": "State.customerId"},
                            },
                            "failureOutputs": failure_outputs,
                        }
                    }
                }
            },
            "outputs": {
                "success": {"actions": success},
                "failure": {"actions": failure},
                "timeout": {"actions": timeout},
            },
        }
    }


def _end(name: str, reason: str | None) -> dict:
    return {"endWorkflow": {"name": name, "exitReason": {"lit": reason} if reason else {"noValue": True}}}


def build_workflow(
    *,
    flow_name: str = DEFAULT_WORKFLOW_NAME,
    division: str = "Home",
    integration: str = DEFAULT_INTEGRATION,
    interaction_action: str = DEFAULT_ACTION_NAME,
) -> dict:
    """The workflow: name the event, call the action; on failure or timeout wait and try once more."""
    for key, value in {
        "flow_name": flow_name,
        "division": division,
        "integration": integration,
        "interaction_action": interaction_action,
    }.items():
        if not value.strip() or any(ch in value for ch in "\r\n"):
            option = OPTIONS.get(key, key.replace("_", "-"))
            raise GenesysError(f"--{option} must be one non-empty line.")
    gave_up = "The CRM did not record the event after a retry; see State.errorCode."

    def retry(after: str) -> list:
        # Archy names every action; each exit's copy gets its own name.
        return [
            {
                "wait": {
                    "name": f"Wait after {after}",
                    "trimDurationNearMaxRunningTime": {"lit": False},
                    "duration": {"lit": {"seconds": RETRY_WAIT_SECONDS}},
                }
            },
            _call(
                f"Record the event in the CRM (retry after {after})",
                integration,
                interaction_action,
                success=[_end(f"Recorded on retry after {after}", None)],
                failure=[_end(f"Not recorded: {after}, then failure", gave_up)],
                timeout=[_end(f"Not recorded: {after}, then timeout", gave_up)],
            ),
        ]

    actions = [
        {
            "updateData": {
                "name": "Name the event",
                "statements": [{"string": {"variable": "State.event", "value": {"exp": EVENT_EXPRESSION}}}],
            }
        },
        _call(
            "Record the event in the CRM",
            integration,
            interaction_action,
            success=[_end("Recorded", None)],
            failure=retry("failure"),
            timeout=retry("timeout"),
        ),
        _end("End Workflow", None),
    ]
    return {
        "workflow": {
            "name": flow_name,
            "division": division,
            "startUpRef": f"/workflow/states/state[{STATE_REF}]",
            "defaultLanguage": "en-us",
            "supportedLanguages": {"en-us": {"none": True}},
            "variables": [
                *(_input("string", name) for name in STRING_INPUTS),
                *(_input("integer", name) for name in INTEGER_INPUTS),
            ],
            "settingsErrorHandling": {"errorHandling": {"endWorkflow": {"none": True}}},
            "states": [
                {
                    "state": {
                        "name": "Record interaction",
                        "refId": STATE_REF,
                        "variables": [_state_variable(n) for n in ("event", "status", "customerId", "errorCode")],
                        "actions": actions,
                    }
                }
            ],
        }
    }


def placeholders() -> dict:
    """build_workflow's names as {{substitutions}} (archy --optionsFile, genesyscloud_flow substitutions)."""
    return {key: "{{" + key + "}}" for key in SUBSTITUTED}


class _Dumper(yaml.SafeDumper):
    """Indents list items under their key, as published Archy flows are written."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)

    def ignore_aliases(self, data):
        # The retry's exits reuse lists; Archy files spell every action out, never &anchors.
        return True


def workflow_yaml(workflow: dict) -> str:
    return yaml.dump(
        workflow, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=4096
    )


# -- the triggers -------------------------------------------------------------------------

TRIGGERS = (
    (
        "customer_end",
        "CRM interaction: customer end",
        CUSTOMER_END_TOPIC,
        "A voice call's customer hung up: record the interaction and match the caller.",
    ),
    (
        "acw",
        "CRM interaction: after-call work",
        ACW_TOPIC,
        "An agent wrapped up a voice call: add queue, agent and wrap-up to the interaction.",
    ),
)
MATCH_CRITERIA = [{"jsonPath": "mediaType", "operator": "Equal", "value": "VOICE"}]


def build_triggers(workflow_id: str = WORKFLOW_ID_PLACEHOLDER) -> list[dict]:
    """Bodies for POST /api/v2/processautomation/triggers, one per topic; {id} stays literal."""
    if not workflow_id.strip() or any(ch.isspace() for ch in workflow_id):
        raise GenesysError("--workflow-id must be the published workflow's id, without spaces.")
    return [
        {
            "name": name,
            "description": description,
            "topicName": topic,
            "enabled": True,
            "target": {
                "type": "Workflow",
                "id": workflow_id,
                "workflowTargetSettings": {"dataFormat": "TopLevelPrimitives"},
            },
            "matchCriteria": MATCH_CRITERIA,
            "eventTTLSeconds": EVENT_TTL_SECONDS,
        }
        for _key, name, topic, description in TRIGGERS
    ]


def triggers_terraform(workflow_reference: str = "genesyscloud_flow.record_interaction.id") -> str:
    """One genesyscloud_processautomation_trigger resource for both topics (for_each over a local map)."""
    entries = "".join(
        f"""    {key} = {{
      name        = "{name}"
      description = "{description}"
      topic_name  = "{topic}"
    }}
"""
        for key, name, topic, description in TRIGGERS
    )
    # Everything but name, description and topic is the same for both (as the blueprint's trigger.tf).
    return f"""locals {{
  crm_interaction_triggers = {{
{entries}  }}
}}

resource "genesyscloud_processautomation_trigger" "crm_interaction" {{
  for_each    = local.crm_interaction_triggers
  name        = each.value.name
  description = each.value.description
  topic_name  = each.value.topic_name
  enabled     = true
  target {{
    id   = {workflow_reference}
    type = "Workflow"
    workflow_target_settings {{
      data_format = "TopLevelPrimitives"
    }}
  }}
  match_criteria    = jsonencode({json.dumps(MATCH_CRITERIA)})
  event_ttl_seconds = {EVENT_TTL_SECONDS}
}}
"""
