"""genesys_bundle: the actions, the flow, the write-back workflow and a Terraform configuration for CX as Code."""

from pathlib import Path

from genesys.actions import action_json, build_action
from genesys.flow import FlowOptions, build_flow, flow_yaml, placeholders
from genesys.interactions import (
    DEFAULT_WORKFLOW_NAME,
    build_interaction_action,
    build_workflow,
    triggers_terraform,
    workflow_yaml,
)
from genesys.interactions import placeholders as workflow_placeholders

# The genesyscloud provider release whose documentation (docs/resources/*.md) the configuration follows.
PROVIDER_VERSION = "1.84.1"
PHONE_ACTION_FILE = "actions/lookup-by-phone.json"
ID_ACTION_FILE = "actions/lookup-by-id.json"
INTERACTION_ACTION_FILE = "actions/record-interaction.json"
FLOW_FILE = "flow.yaml"
WORKFLOW_FILE = "workflow.yaml"
TERRAFORM_FILE = "main.tf"
# Terraform reads every .tf file of the folder: the triggers are their own file, as genesys_workflow prints it.
TRIGGERS_FILE = "triggers.tf"
WORKFLOW_RESOURCE = "record_interaction"
ACTION_RESOURCE = "crm"
ACTIONS_LOCAL = "crm_actions"

DEFAULTS = FlowOptions()


# One resource for the three actions (for_each): each.value is one action's exported JSON, camelCase keys.
_ACTION_RESOURCE = f"""
resource "genesyscloud_integration_action" "{ACTION_RESOURCE}" {{
  for_each               = local.{ACTIONS_LOCAL}
  name                   = each.value.name
  category               = var.integration_name
  integration_id         = genesyscloud_integration.crm_lookup.id
  secure                 = each.value.secure
  config_timeout_seconds = each.value.config.timeoutSeconds
  contract_input         = jsonencode(each.value.contract.input.inputSchema)
  contract_output        = jsonencode(each.value.contract.output.successSchema)
  config_request {{
    request_url_template = each.value.config.request.requestUrlTemplate
    request_type         = each.value.config.request.requestType
    request_template     = each.value.config.request.requestTemplate
    headers              = each.value.config.request.headers
  }}
  config_response {{
    translation_map          = each.value.config.response.translationMap
    translation_map_defaults = each.value.config.response.translationMapDefaults
    success_template         = each.value.config.response.successTemplate
  }}
}}
"""


def _action(key: str) -> str:
    """The address of one of the actions, e.g. genesyscloud_integration_action.crm["lookup_by_phone"]."""
    return f'genesyscloud_integration_action.{ACTION_RESOURCE}["{key}"]'


def _variable(name: str, description: str, default: str) -> str:
    return f'''
variable "{name}" {{
  description = "{description}"
  type        = string
  default     = "{default}"
}}
'''


def terraform() -> str:
    """main.tf: credential (sensitive token), integration, the three actions, flow and workflow."""
    # The actions are read from their exported JSON (Velocity's ${...} stays data, never HCL interpolation).
    return (
        f"""# Written by `manage.py genesys_bundle` following the genesyscloud provider {PROVIDER_VERSION} documentation.
# Apply with the OAuth client in GENESYSCLOUD_OAUTHCLIENT_ID / GENESYSCLOUD_OAUTHCLIENT_SECRET / GENESYSCLOUD_REGION
# and the lookup token in TF_VAR_lookup_token (see docs/genesys.md). The queues must exist already.
terraform {{
  required_version = ">= 1.0.0"
  required_providers {{
    genesyscloud = {{
      source  = "mypurecloud/genesyscloud"
      version = "~> {PROVIDER_VERSION.rsplit(".", 1)[0]}"
    }}
  }}
}}

provider "genesyscloud" {{}}

variable "lookup_token" {{
  description = "A lookup token of the CRM (manage.py create_lookup_token genesys-prod). Never written to a file."
  type        = string
  sensitive   = true
}}

variable "credential_type_name" {{
  description = "The User Defined credential type; check GET /api/v2/integrations/credentials/types in your org."
  type        = string
  default     = "userDefined"
}}
"""
        + _variable(
            "integration_name",
            "The Web Services Data Actions integration (the actions' category).",
            DEFAULTS.integration,
        )
        + _variable("flow_name", "The inbound call flow.", DEFAULTS.flow_name)
        + _variable("workflow_name", "The workflow that writes conversations back.", DEFAULT_WORKFLOW_NAME)
        + _variable("workflow_division", "The workflow's division.", "Home")
        + _variable("vip_queue", "Where found customers go.", DEFAULTS.vip_queue)
        + _variable("general_queue", "Where everyone else goes.", DEFAULTS.general_queue)
        + _variable("agent_queue", "Where Failure and Timeout send the caller.", DEFAULTS.agent_queue)
        + f"""
locals {{
  {ACTIONS_LOCAL} = {{
    lookup_by_phone    = jsondecode(file("${{path.module}}/{PHONE_ACTION_FILE}"))
    lookup_by_id       = jsondecode(file("${{path.module}}/{ID_ACTION_FILE}"))
    record_interaction = jsondecode(file("${{path.module}}/{INTERACTION_ACTION_FILE}"))
  }}
}}

resource "genesyscloud_integration_credential" "crm_lookup" {{
  name                 = "${{var.integration_name}} token"
  credential_type_name = var.credential_type_name
  fields = {{
    token = var.lookup_token
  }}
}}

resource "genesyscloud_integration" "crm_lookup" {{
  intended_state   = "ENABLED"
  integration_type = "custom-rest-actions"
  config {{
    name = var.integration_name
    credentials = {{
      basicAuth = genesyscloud_integration_credential.crm_lookup.id
    }}
  }}
}}
"""
        + _ACTION_RESOURCE
        + f"""
resource "genesyscloud_flow" "crm_lookup" {{
  filepath = "${{path.module}}/{FLOW_FILE}"
  substitutions = {{
    flow_name     = var.flow_name
    integration   = var.integration_name
    phone_action  = {_action("lookup_by_phone")}.name
    id_action     = {_action("lookup_by_id")}.name
    vip_queue     = var.vip_queue
    general_queue = var.general_queue
    agent_queue   = var.agent_queue
  }}
}}

resource "genesyscloud_flow" "{WORKFLOW_RESOURCE}" {{
  filepath = "${{path.module}}/{WORKFLOW_FILE}"
  substitutions = {{
    flow_name          = var.workflow_name
    division           = var.workflow_division
    integration        = var.integration_name
    interaction_action = {_action("record_interaction")}.name
  }}
}}
"""
    )


def bundle_files(base_url: str, *, step_timeout_seconds: int = DEFAULTS.step_timeout_seconds) -> dict[str, str]:
    """Relative path -> text of every file in the bundle (GenesysError for a bad base URL)."""
    flow = build_flow(placeholders(FlowOptions(step_timeout_seconds=step_timeout_seconds)))
    return {
        PHONE_ACTION_FILE: action_json(build_action(base_url)),
        ID_ACTION_FILE: action_json(build_action(base_url, kind="by-id")),
        INTERACTION_ACTION_FILE: action_json(build_interaction_action(base_url)),
        FLOW_FILE: flow_yaml(flow),
        WORKFLOW_FILE: workflow_yaml(build_workflow(**workflow_placeholders())),
        TERRAFORM_FILE: terraform(),
        # The same resources genesys_workflow --triggers terraform prints, aimed at main.tf's workflow.
        TRIGGERS_FILE: triggers_terraform(f"genesyscloud_flow.{WORKFLOW_RESOURCE}.id"),
    }


def write_bundle(files: dict[str, str], directory: Path) -> list[Path]:
    """Write the files under directory (created if needed); the paths written."""
    written = []
    for relative, text in files.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
