"""Staff sign-in and browser security: lockout page, two-factor sign-in, login logs, file modes."""

from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "security"
    verbose_name = "Sign-in security"

    def ready(self):
        from security import files, logins  # noqa: F401 - connect their signal receivers
