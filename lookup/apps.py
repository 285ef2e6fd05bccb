"""App config for the lookup API."""

from django.apps import AppConfig

# What support staff may do with lookup data (migration 0004 grants it in the database).
SUPPORT_PERMISSIONS = {("lookup", "lookupevent"): ["view"]}


class LookupConfig(AppConfig):
    """The caller lookup API, its tokens and audit."""

    name = "lookup"
    verbose_name = "Caller lookup"

    def ready(self):
        from crm.roles import register_support_permissions
        from lookup.api import schema  # noqa: F401  registers the OpenAPI auth extension

        register_support_permissions(SUPPORT_PERMISSIONS)
