# Written by `manage.py genesys_bundle` following the genesyscloud provider 1.84.1 documentation.
# Apply with the OAuth client in GENESYSCLOUD_OAUTHCLIENT_ID / GENESYSCLOUD_OAUTHCLIENT_SECRET / GENESYSCLOUD_REGION
# and the lookup token in TF_VAR_lookup_token (see docs/genesys.md). The queues must exist already.
terraform {
  required_version = ">= 1.0.0"
  required_providers {
    genesyscloud = {
      source  = "mypurecloud/genesyscloud"
      version = "~> 1.84"
    }
  }
}

provider "genesyscloud" {}

variable "lookup_token" {
  description = "A lookup token of the CRM (manage.py create_lookup_token genesys-prod). Never written to a file."
  type        = string
  sensitive   = true
}

variable "credential_type_name" {
  description = "The User Defined credential type; check GET /api/v2/integrations/credentials/types in your org."
  type        = string
  default     = "userDefined"
}

variable "integration_name" {
  description = "The Web Services Data Actions integration (the actions' category)."
  type        = string
  default     = "CRM lookup"
}

variable "flow_name" {
  description = "The inbound call flow."
  type        = string
  default     = "CRM caller lookup"
}

variable "workflow_name" {
  description = "The workflow that writes conversations back."
  type        = string
  default     = "CRM record interaction"
}

variable "workflow_division" {
  description = "The workflow's division."
  type        = string
  default     = "Home"
}

variable "vip_queue" {
  description = "Where found customers go."
  type        = string
  default     = "VIP"
}

variable "general_queue" {
  description = "Where everyone else goes."
  type        = string
  default     = "General"
}

variable "agent_queue" {
  description = "Where Failure and Timeout send the caller."
  type        = string
  default     = "General"
}

locals {
  crm_actions = {
    lookup_by_phone    = jsondecode(file("${path.module}/actions/lookup-by-phone.json"))
    lookup_by_id       = jsondecode(file("${path.module}/actions/lookup-by-id.json"))
    record_interaction = jsondecode(file("${path.module}/actions/record-interaction.json"))
  }
}

resource "genesyscloud_integration_credential" "crm_lookup" {
  name                 = "${var.integration_name} token"
  credential_type_name = var.credential_type_name
  fields = {
    token = var.lookup_token
  }
}

resource "genesyscloud_integration" "crm_lookup" {
  intended_state   = "ENABLED"
  integration_type = "custom-rest-actions"
  config {
    name = var.integration_name
    credentials = {
      basicAuth = genesyscloud_integration_credential.crm_lookup.id
    }
  }
}

resource "genesyscloud_integration_action" "crm" {
  for_each               = local.crm_actions
  name                   = each.value.name
  category               = var.integration_name
  integration_id         = genesyscloud_integration.crm_lookup.id
  secure                 = each.value.secure
  config_timeout_seconds = each.value.config.timeoutSeconds
  contract_input         = jsonencode(each.value.contract.input.inputSchema)
  contract_output        = jsonencode(each.value.contract.output.successSchema)
  config_request {
    request_url_template = each.value.config.request.requestUrlTemplate
    request_type         = each.value.config.request.requestType
    request_template     = each.value.config.request.requestTemplate
    headers              = each.value.config.request.headers
  }
  config_response {
    translation_map          = each.value.config.response.translationMap
    translation_map_defaults = each.value.config.response.translationMapDefaults
    success_template         = each.value.config.response.successTemplate
  }
}

resource "genesyscloud_flow" "crm_lookup" {
  filepath = "${path.module}/flow.yaml"
  substitutions = {
    flow_name     = var.flow_name
    integration   = var.integration_name
    phone_action  = genesyscloud_integration_action.crm["lookup_by_phone"].name
    id_action     = genesyscloud_integration_action.crm["lookup_by_id"].name
    vip_queue     = var.vip_queue
    general_queue = var.general_queue
    agent_queue   = var.agent_queue
  }
}

resource "genesyscloud_flow" "record_interaction" {
  filepath = "${path.module}/workflow.yaml"
  substitutions = {
    flow_name          = var.workflow_name
    division           = var.workflow_division
    integration        = var.integration_name
    interaction_action = genesyscloud_integration_action.crm["record_interaction"].name
  }
}
