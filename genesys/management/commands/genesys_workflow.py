"""Print the Archy workflow that writes conversations back, or the two triggers that start it."""

import json

from genesys.interactions import (
    DEFAULT_ACTION_NAME,
    DEFAULT_INTEGRATION,
    DEFAULT_WORKFLOW_NAME,
    WORKFLOW_ID_PLACEHOLDER,
    build_triggers,
    build_workflow,
    placeholders,
    triggers_terraform,
    workflow_yaml,
)
from genesys.management.output import PrintOrWriteCommand


class Command(PrintOrWriteCommand):
    help = (
        "Print (or write with -o) the Architect workflow (workflow: YAML for archy or genesyscloud_flow) that sends "
        "a conversation's customer-end and after-call-work events to POST /api/interactions; with --triggers, the "
        "two Process Automation triggers that start it (JSON for the API, or Terraform)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--flow-name", default=DEFAULT_WORKFLOW_NAME, help="The workflow's name in Architect.")
        parser.add_argument("--division", default="Home", help="The workflow's division (default: Home).")
        parser.add_argument(
            "--integration", default=DEFAULT_INTEGRATION, help="The Web Services Data Actions integration's name."
        )
        parser.add_argument(
            "--action-name", default=DEFAULT_ACTION_NAME, help="The data action from genesys_action --kind interaction."
        )
        parser.add_argument(
            "--placeholders",
            action="store_true",
            help="Write the names as {{flow_name}}, {{division}}, {{integration}}, {{interaction_action}} substitutions.",
        )
        parser.add_argument(
            "--triggers",
            choices=["json", "terraform"],
            help="Print the two triggers instead: bodies for POST /api/v2/processautomation/triggers, or Terraform.",
        )
        parser.add_argument(
            "--workflow-id",
            default=WORKFLOW_ID_PLACEHOLDER,
            help="The published workflow's id, for --triggers json (default: a placeholder to replace).",
        )
        parser.add_argument("-o", "--output", metavar="FILE", help="Write to FILE instead of stdout.")

    def build(self, *, triggers, workflow_id, **options) -> str:
        if triggers == "json":
            return json.dumps(build_triggers(workflow_id), indent=2, ensure_ascii=False) + "\n"
        if triggers == "terraform":
            return triggers_terraform()
        names = {
            "flow_name": options["flow_name"],
            "division": options["division"],
            "integration": options["integration"],
            "interaction_action": options["action_name"],
        }
        return workflow_yaml(build_workflow(**(placeholders() if options["placeholders"] else names)))
