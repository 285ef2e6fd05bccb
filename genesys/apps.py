"""App config for the Genesys Cloud kit."""

from django.apps import AppConfig


class GenesysConfig(AppConfig):
    """Exports for Genesys Cloud (data actions, flow, bundle) and the probe that runs them; no models."""

    name = "genesys"
    verbose_name = "Genesys Cloud kit"
