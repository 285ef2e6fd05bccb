"""Write the Archy inbound call flow that looks the caller up and routes them (archy publish / genesyscloud_flow)."""

from dataclasses import fields

from genesys.flow import SUBSTITUTED, FlowOptions, build_flow, flow_yaml
from genesys.flow import placeholders as placeholders_of
from genesys.management.output import PrintOrWriteCommand

DEFAULTS = FlowOptions()


class Command(PrintOrWriteCommand):
    help = (
        "Print (or write with -o) an Archy inbound call flow (YAML): a Call Data Action on Call.Ani, a decision on "
        "status, the VIP and general prompts and queues, Failure/Timeout to an agent, and callers who are not found "
        "asked for their customer number (looked up by id). --placeholders writes {{substitutions}} for "
        "archy --optionsFile or the genesyscloud_flow resource."
    )

    written = "Wrote {output}: publish it with archy publish --file {output} (see docs/genesys.md)."

    def add_arguments(self, parser):
        for key in SUBSTITUTED:
            parser.add_argument(
                f"--{key.replace('_', '-')}", default=getattr(DEFAULTS, key), help=f"default: {getattr(DEFAULTS, key)}"
            )
        parser.add_argument(
            "--step-timeout",
            type=int,
            default=DEFAULTS.step_timeout_seconds,
            help=f"The Call Data Action step's timeout in seconds (default {DEFAULTS.step_timeout_seconds}: "
            "a little above the action's own 3 s).",
        )
        parser.add_argument("--placeholders", action="store_true", help="Write {{key}} for every name above.")
        parser.add_argument("-o", "--output", metavar="FILE", help="Write the YAML to FILE instead of stdout.")

    def build(self, *, step_timeout, placeholders: bool, **options) -> str:
        values = {f.name: options[f.name] for f in fields(FlowOptions) if f.name in SUBSTITUTED}
        flow_options = FlowOptions(**values, step_timeout_seconds=step_timeout)
        return flow_yaml(build_flow(placeholders_of(flow_options) if placeholders else flow_options))
