"""Print the Genesys Cloud Web Services Data Action that calls the lookup, ready to import."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from genesys.actions import KINDS, METHODS, GenesysError, action_json, build_action


class Command(BaseCommand):
    help = (
        "Print (or write with -o) a Genesys Cloud data action for the lookup API, to import into a "
        "Web Services Data Actions integration whose User Defined credential field `token` holds a lookup token."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--base-url", required=True, help="Where Genesys reaches this service, e.g. https://crm.example.com"
        )
        parser.add_argument("--method", default="POST", type=str.upper, choices=METHODS, help="POST (default) or GET.")
        parser.add_argument(
            "--kind",
            default="phone",
            choices=KINDS,
            help="phone (Call.Ani, default) or by-id (a typed customer number).",
        )
        parser.add_argument("--name", help="Action name shown in Genesys (default: CRM customer lookup).")
        parser.add_argument("-o", "--output", metavar="FILE", help="Write the JSON to FILE instead of stdout.")

    def handle(self, *args, base_url, method, kind, name, output, **options):
        try:
            text = action_json(build_action(base_url, method=method, name=name, kind=kind))
        except GenesysError as exc:
            raise CommandError(str(exc)) from exc
        if base_url.strip().lower().startswith("http://"):
            self.stderr.write("Note: Genesys Cloud only calls public HTTPS endpoints; use https:// in production.")
        if output is None:
            self.stdout.write(text, ending="")
            return
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"Cannot write {output}: {exc.strerror or exc}") from exc
        self.stderr.write(f"Wrote {output}: import it under Admin > Integrations > Actions > Import.")
