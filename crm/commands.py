"""Shared by the management commands: bad input is one line on stderr and exit status 1 (or 2 for usage)."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError


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


def int_in_range(value: int, option: str, low: int, high: int) -> int:
    """value if low <= value <= high, else a one-line CommandError naming the option."""
    if not low <= value <= high:
        raise CommandError(f"{option} must be between {low} and {high} (got {value}).")
    return value
