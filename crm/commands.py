"""Shared by the management commands: one-line errors (exit status 1, or 2 for usage), checks, kept secrets, pruning."""

from datetime import timedelta
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone


class OneLineUsageErrors:
    """Mixin for a BaseCommand: an argparse error (e.g. `--days abc`) is one line, not usage + error."""

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)

        def error(message):
            if not parser.called_from_command_line:
                raise CommandError(f"Error: {message}")
            parser.exit(2, f"{parser.prog}: error: {message} (see --help)\n")

        parser.error = error
        return parser


def valid_username(username: str) -> str:
    """The username as Django's user model accepts it, or a one-line CommandError saying why not."""
    field = get_user_model()._meta.get_field(get_user_model().USERNAME_FIELD)
    if not username or not username.strip():
        raise CommandError("The username must not be empty.")
    if len(username) > field.max_length:
        raise CommandError(f"The username is at most {field.max_length} characters (this one has {len(username)}).")
    try:
        for validator in field.validators:
            validator(username)
    except ValidationError as error:
        raise CommandError(f"Invalid username {username!r}: {' '.join(error.messages)}") from error
    return username


def read_kept(path: str | None, option: str) -> str:
    """The secret an earlier run kept in the file of `option`, or '' when there is no such file."""
    if not path:
        return ""
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as error:
        raise CommandError(f"Cannot read {option} {path}: {error}.") from None


def keep(path: str, option: str, secret: str) -> None:
    """Write the secret to the file of `option`, readable by its owner only, so later runs can print it again."""
    try:
        Path(path).touch(mode=0o600)
        Path(path).write_text(secret + "\n", encoding="utf-8")
    except OSError as error:
        raise CommandError(f"Cannot write {option} {path}: {error.strerror}.") from None


def int_in_range(value: int, option: str, low: int, high: int) -> int:
    """value if low <= value <= high, else a one-line CommandError naming the option."""
    if not low <= value <= high:
        raise CommandError(f"{option} must be between {low} and {high} (got {value}).")
    return value


# A hundred years: anything longer keeps everything, and timedelta overflows at 999,999,999 days.
MAX_PRUNE_DAYS = 36500


class PruneCommand(OneLineUsageErrors, BaseCommand):
    """Deletes the rows older than a cutoff, or counts them: subclasses say which rows and what they are called."""

    noun = ""  # in the output: "Deleted 3 {noun} older than …"
    kept = ""  # in --help: "Keep this many days of {kept} (at least 1)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, required=True, help=f"Keep this many days of {self.kept} (at least 1).")
        parser.add_argument("--dry-run", action="store_true", help="Count what would be deleted; delete nothing.")

    def old(self, cutoff) -> QuerySet:
        raise NotImplementedError

    def forget(self, cutoff) -> None:
        """What else goes with the deleted rows, in the same transaction."""

    def handle(self, *args, days, dry_run, **options):
        self.prune(int_in_range(days, "--days", 1, MAX_PRUNE_DAYS), dry_run)

    def prune(self, days: int, dry_run: bool) -> None:
        cutoff = timezone.now() - timedelta(days=days)
        old = self.old(cutoff)
        if dry_run:
            self.stdout.write(f"Would delete {old.count()} {self.noun} older than {cutoff:%Y-%m-%d %H:%M %Z}.")
            return
        with transaction.atomic():
            deleted, _ = old.delete()
            self.forget(cutoff)
        self.stdout.write(self.style.SUCCESS(f"Deleted {deleted} {self.noun} older than {cutoff:%Y-%m-%d %H:%M %Z}."))
