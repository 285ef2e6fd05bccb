"""django-otp's device apps under names a support lead reads in the admin (the library's are "Otp_Totp")."""

from django_otp.plugins.otp_static.apps import DefaultConfig as StaticConfig
from django_otp.plugins.otp_totp.apps import DefaultConfig as TotpConfig


# Same name and label as the library's configs, so its models, admin and migrations are unchanged.
class BackupCodesConfig(StaticConfig):
    verbose_name = "Two-factor: backup codes"


class AuthenticatorAppsConfig(TotpConfig):
    verbose_name = "Two-factor: authenticator apps"
