"""Print the Genesys Cloud Web Services Data Action that calls the lookup, ready to import."""

from genesys.actions import KINDS, METHODS, GenesysError, action_json, build_action
from genesys.interactions import build_interaction_action
from genesys.management.output import PrintOrWriteCommand


class Command(PrintOrWriteCommand):
    help = (
        "Print (or write with -o) a Genesys Cloud data action for the lookup API, to import into a "
        "Web Services Data Actions integration whose User Defined credential field `token` holds a lookup token."
    )

    written = "Wrote {output}: import it under Admin > Integrations > Actions > Import."

    def add_arguments(self, parser):
        parser.add_argument(
            "--base-url", required=True, help="Where Genesys reaches this service, e.g. https://crm.example.com"
        )
        parser.add_argument("--method", default="POST", type=str.upper, choices=METHODS, help="POST (default) or GET.")
        parser.add_argument(
            "--kind",
            default="phone",
            choices=(*KINDS, "interaction"),
            help="phone (Call.Ani, default), by-id (a typed customer number) or interaction (POST /api/interactions).",
        )
        parser.add_argument("--name", help="Action name shown in Genesys (default: CRM customer lookup).")
        parser.add_argument("-o", "--output", metavar="FILE", help="Write the JSON to FILE instead of stdout.")

    def build(self, *, base_url, method, kind, name, **options) -> str:
        if kind == "interaction":  # the write-back action for genesys_workflow (genesys/interactions.py)
            if method != "POST":
                raise GenesysError("--kind interaction is a POST action: it sends a JSON body.")
            text = action_json(build_interaction_action(base_url, name=name))
        else:
            text = action_json(build_action(base_url, method=method, name=name, kind=kind))
        if base_url.strip().lower().startswith("http://"):
            self.stderr.write("Note: Genesys Cloud only calls public HTTPS endpoints; use https:// in production.")
        return text
