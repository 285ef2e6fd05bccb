"""Create a named Bearer token for the lookup API and print it once."""

from django.core.management.base import BaseCommand, CommandError

from crm.commands import OneLineUsageErrors
from lookup.services import TokenError, token_create


class Command(OneLineUsageErrors, BaseCommand):
    help = "Create a lookup API token named NAME. The raw token is the last line of output; it is not stored."

    def add_arguments(self, parser):
        parser.add_argument("name", help="Who will use the token, e.g. genesys-prod.")
        parser.add_argument(
            "--token", help="Use this value instead of a random one (e.g. a secret moved from elsewhere)."
        )

    def handle(self, *args, name, token, **options):
        try:
            created, raw = token_create(name=name, raw=token)
        except TokenError as exc:
            raise CommandError(str(exc)) from exc
        self.stderr.write(f"Created token {created.name!r}. Store it now: it cannot be shown again.")
        self.stdout.write(raw)
