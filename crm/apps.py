"""App config for the CRM."""

from django.apps import AppConfig


class CrmConfig(AppConfig):
    """Customers, phones and tiers."""

    name = "crm"
    verbose_name = "CRM"
