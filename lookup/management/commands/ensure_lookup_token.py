"""For `make run`: make sure a working lookup token exists and print it."""

from pathlib import Path

from django.core.management.base import BaseCommand

from lookup.models import ApiToken, token_digest
from lookup.services import token_create


class Command(BaseCommand):
    help = (
        "Print a working token named NAME. The raw value is kept in --token-file (mode 600) so later runs "
        "can print it again; a missing or revoked one is replaced by a new token."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", nargs="?", default="demo")
        parser.add_argument("--token-file", required=True)

    def handle(self, *args, name, token_file, **options):
        path = Path(token_file)
        raw = path.read_text().strip() if path.is_file() else ""
        token = ApiToken.objects.filter(name=name).first()
        if token is None or not token.is_active or not raw or token.digest != token_digest(raw):
            if token is not None:
                token.delete()  # stale: revoked, or its raw value is gone with the file
            _, raw = token_create(name=name)
            path.touch(mode=0o600)
            path.write_text(raw + "\n")
        self.stdout.write(self.style.SUCCESS(f"Lookup token ({name}): {raw}"))
