"""Create a staff user in the "Support staff" group (and with --lead, in "Support leads" too)."""

import getpass
import os
import warnings

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction

from crm.commands import OneLineUsageErrors, valid_username
from crm.roles import LEAD_GROUP, ensure_lead_group, ensure_support_group
from crm.roles import SUPPORT_GROUP as GROUP


class Command(OneLineUsageErrors, BaseCommand):
    help = (
        f"Create USERNAME as a staff user in the {GROUP!r} group: customers, phones, tiers and lookup events, "
        f"but no tokens, users or groups; --lead adds the {LEAD_GROUP!r} group (the edit history). The password is "
        "prompted for (twice) unless --password-from-env names an environment variable holding it."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", default="")
        parser.add_argument("--password-from-env", metavar="VAR", help="Read the password from this variable.")
        parser.add_argument(
            "--lead", action="store_true", help=f"Also put the user in {LEAD_GROUP!r}: reads the edit history."
        )

    def handle(self, *args, username, email, password_from_env, lead=False, **options):
        User = get_user_model()
        username = valid_username(username)
        if email:
            try:
                validate_email(email)
            except ValidationError:
                raise CommandError(f"Invalid --email {email!r}: enter a valid email address.") from None
        if User.objects.filter(username=username).exists():
            raise CommandError(f"User {username!r} already exists.")
        password = self._password(password_from_env)
        user = User(username=username, email=email, is_staff=True)
        try:
            password_validation.validate_password(password, user)
        except ValidationError as error:
            raise CommandError("Password rejected: " + " ".join(error.messages)) from error
        user.set_password(password)
        with transaction.atomic():
            user.save()
            # The migrations create the groups; a flushed database (tests) may have lost them.
            user.groups.add(ensure_support_group())
            if lead:
                user.groups.add(ensure_lead_group())
        groups = f"groups {GROUP!r}, {LEAD_GROUP!r}" if lead else f"group {GROUP!r}"
        self.stdout.write(self.style.SUCCESS(f"Created support user {username!r} (staff, {groups})."))

    def _password(self, variable: str | None) -> str:
        if variable:
            password = os.environ.get(variable)
            if not password:
                raise CommandError(f"Environment variable {variable} is not set or empty.")
            return password
        try:
            with warnings.catch_warnings():
                # Without a terminal getpass warns, then reads stdin (EOF from `< /dev/null`): refuse instead.
                warnings.simplefilter("error", getpass.GetPassWarning)
                password = getpass.getpass("Password: ")
                again = getpass.getpass("Password (again): ")
        except getpass.GetPassWarning:
            raise CommandError("No terminal to prompt for the password; use --password-from-env VAR.") from None
        except (EOFError, KeyboardInterrupt):
            raise CommandError("No password given (input ended).") from None
        if password != again:
            raise CommandError("The two passwords do not match.")
        if not password:
            raise CommandError("The password must not be empty.")
        return password
