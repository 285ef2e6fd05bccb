locals {
  crm_interaction_triggers = {
    customer_end = {
      name        = "CRM interaction: customer end"
      description = "A voice call's customer hung up: record the interaction and match the caller."
      topic_name  = "v2.detail.events.conversation.{id}.customer.end"
    }
    acw = {
      name        = "CRM interaction: after-call work"
      description = "An agent wrapped up a voice call: add queue, agent and wrap-up to the interaction."
      topic_name  = "v2.detail.events.conversation.{id}.acw"
    }
  }
}

resource "genesyscloud_processautomation_trigger" "crm_interaction" {
  for_each    = local.crm_interaction_triggers
  name        = each.value.name
  description = each.value.description
  topic_name  = each.value.topic_name
  enabled     = true
  target {
    id   = genesyscloud_flow.record_interaction.id
    type = "Workflow"
    workflow_target_settings {
      data_format = "TopLevelPrimitives"
    }
  }
  match_criteria    = jsonencode([{"jsonPath": "mediaType", "operator": "Equal", "value": "VOICE"}])
  event_ttl_seconds = 60
}
