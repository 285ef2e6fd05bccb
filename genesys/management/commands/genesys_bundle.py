"""Write the CX as Code bundle: the data actions, the Archy flow and workflow, and a Terraform configuration."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from genesys.actions import GenesysError
from genesys.bundle import PROVIDER_VERSION, bundle_files, write_bundle


class Command(BaseCommand):
    help = (
        "Write to DIR the three data actions (lookup by phone, lookup by customer number, record interaction), "
        "the Archy inbound call flow and write-back workflow "
        f"with {{{{substitutions}}}} and a Terraform configuration for the genesyscloud provider {PROVIDER_VERSION} "
        "(credential, integration, actions, flow, workflow, its two triggers). "
        "The token is a sensitive Terraform variable, never a file."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--base-url", required=True, help="Where Genesys reaches this service, e.g. https://crm.example.com"
        )
        parser.add_argument("-o", "--output", required=True, metavar="DIR", help="The folder to write (created).")

    def handle(self, *args, base_url, output, **options):
        try:
            files = bundle_files(base_url)
        except GenesysError as exc:
            raise CommandError(str(exc)) from exc
        directory = Path(output)
        if directory.exists() and not directory.is_dir():
            raise CommandError(f"{output} exists and is not a folder.")
        try:
            written = write_bundle(files, directory)
        except OSError as exc:
            raise CommandError(f"Cannot write {output}: {exc.strerror or exc}") from exc
        for path in written:
            self.stdout.write(str(path))
        self.stderr.write(
            f"Next: cd {output} && terraform init && TF_VAR_lookup_token=<token> terraform apply (see docs/genesys.md)."
        )
