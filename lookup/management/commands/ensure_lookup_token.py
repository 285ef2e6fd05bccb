"""For `make run`: make sure a working lookup token exists and print it."""

from django.core.management.base import BaseCommand, CommandError

from crm.commands import OneLineUsageErrors, keep, read_kept
from lookup.models import ApiToken, token_digest
from lookup.services import TokenError, token_create


class Command(OneLineUsageErrors, BaseCommand):
    help = (
        "Print a working token named NAME. The raw value is kept in --token-file (mode 600) so later runs "
        "can print it again; a missing or revoked one is replaced by a new token."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", nargs="?", default="demo")
        parser.add_argument("--token-file", required=True)

    def handle(self, *args, name, token_file, **options):
        raw = read_kept(token_file, "--token-file")
        token = ApiToken.objects.active().filter(name=name).first()
        if token is None or not raw or token.digest != token_digest(raw):
            if token is not None:
                token.revoke()  # its raw value is gone with the file; the row stays as history
            try:
                _, raw = token_create(name=name)
            except TokenError as error:
                raise CommandError(str(error)) from None
            keep(token_file, "--token-file", raw)
        self.stdout.write(self.style.SUCCESS(f"Lookup token ({name}): {raw}"))
