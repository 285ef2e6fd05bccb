"""Revoke a named lookup API token."""

from django.core.management.base import BaseCommand, CommandError

from crm.commands import OneLineUsageErrors
from lookup.models import ApiToken


class Command(OneLineUsageErrors, BaseCommand):
    help = "Revoke the lookup API token NAME: it is refused from the next request on."

    def add_arguments(self, parser):
        parser.add_argument("name")

    def handle(self, *args, name, **options):
        # The active one, else the latest revoked one: a name can be reused after a revoke.
        token = ApiToken.objects.filter(name=name).order_by("revoked_at", "-created_at").first()
        if token is None:
            raise CommandError(f"No token named {name!r}.")
        if not token.is_active:
            self.stdout.write(f"Token {name!r} was already revoked at {token.revoked_at:%Y-%m-%d %H:%M:%S %Z}.")
            return
        token.revoke()
        self.stdout.write(self.style.SUCCESS(f"Revoked token {name!r}."))
