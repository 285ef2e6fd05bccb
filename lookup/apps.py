"""App config for the lookup API."""

from django.apps import AppConfig


class LookupConfig(AppConfig):
    """The caller lookup API, its tokens and audit."""

    name = "lookup"
    verbose_name = "Caller lookup"

    def ready(self):
        from lookup.api import schema  # noqa: F401  registers the OpenAPI auth extension
