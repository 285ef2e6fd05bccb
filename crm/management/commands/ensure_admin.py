"""Make sure a superuser exists for `make run`, and print how to log in."""

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from crm.commands import OneLineUsageErrors, keep, read_kept, valid_username


class Command(OneLineUsageErrors, BaseCommand):
    help = (
        "Create the superuser USERNAME with a random password if it does not exist, and print the login. "
        "With --password-file, the password is kept there so later runs can print it again."
    )

    def add_arguments(self, parser):
        parser.add_argument("username", nargs="?", default="admin")
        parser.add_argument(
            "--password-file",
            help="File holding the password of a user this command created (written on creation).",
        )

    def handle(self, *args, username, password_file, **options):
        User = get_user_model()
        username = valid_username(username)
        user = User.objects.filter(username=username).first()
        if user is None:
            password = secrets.token_urlsafe(12)
            User.objects.create_superuser(username=username, email="", password=password)
            if password_file:
                keep(password_file, "--password-file", password)
            self.stdout.write(self.style.SUCCESS(f"Admin login: {username} / {password}"))
            return
        if not user.is_superuser or not user.is_active:
            raise CommandError(f"User {username!r} exists but is not an active superuser.")
        password = read_kept(password_file, "--password-file")
        if password and user.check_password(password):
            self.stdout.write(self.style.SUCCESS(f"Admin login: {username} / {password}"))
        else:
            self.stdout.write(
                f"Admin login: {username} (password changed since it was generated; "
                f"reset it with `.venv/bin/python manage.py changepassword {username}`)"
            )
