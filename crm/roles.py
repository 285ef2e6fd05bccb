"""The "Support staff" and "Support leads" groups: what support staff and their lead may do in the admin."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions

SUPPORT_GROUP = "Support staff"

# Customers, phones and tiers: view, add, change (and phones delete, so a customer's old
# number can be removed on their page). Nothing on users or groups.
SUPPORT_PERMISSIONS = {
    ("crm", "customer"): ["view", "add", "change"],
    ("crm", "customerphone"): ["view", "add", "change", "delete"],
    ("crm", "tier"): ["view", "add", "change"],
    ("crm", "interaction"): ["view"],
}

# A lead is in both groups: "Support leads" adds reading who changed what, with the values
# before and after (the edit history on a customer's page and the tiers' History button).
LEAD_GROUP = "Support leads"
LEAD_PERMISSIONS = {
    ("crm", "historicalcustomer"): ["view"],
    ("crm", "historicalcustomerphone"): ["view"],
    ("crm", "historicaltier"): ["view"],
}

# What apps built on crm grant the group too (lookup: view lookup events), registered from
# their AppConfig.ready(): crm imports no app above it. Their own migrations grant it in the database.
_REGISTERED_PERMISSIONS: dict[tuple[str, str], list[str]] = {}


def register_support_permissions(permissions: dict[tuple[str, str], list[str]]) -> None:
    """Add another app's (app_label, model) -> actions to what ensure_support_group() grants."""
    _REGISTERED_PERMISSIONS.update(permissions)


def ensure_support_group(apps=global_apps, using: str = "default", permissions=None):
    """Create the group if missing and grant it `permissions` (crm's and the registered apps' by default).

    Works with a migration's historical apps too: a migration passes the permissions it grants.
    """
    if permissions is None:
        permissions = {**SUPPORT_PERMISSIONS, **_REGISTERED_PERMISSIONS}
    return ensure_group(SUPPORT_GROUP, permissions, apps=apps, using=using)


def ensure_lead_group(apps=global_apps, using: str = "default", permissions=None):
    """Create the "Support leads" group if missing and grant it `permissions` (LEAD_PERMISSIONS by default)."""
    return ensure_group(LEAD_GROUP, LEAD_PERMISSIONS if permissions is None else permissions, apps=apps, using=using)


def ensure_group(name: str, permissions: dict[tuple[str, str], list[str]], *, apps=global_apps, using="default"):
    """Create group `name` if missing and grant it `permissions` ((app_label, model) -> actions)."""
    # Permissions are normally created by post_migrate, after every migration has run; on a
    # fresh database they do not exist yet when the data migration runs, so create them here.
    for app_label in {app for app, _model in permissions}:
        app_config = apps.get_app_config(app_label)
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True  # historical app configs have none
        try:
            create_permissions(app_config, apps=apps, verbosity=0, using=using)
        finally:
            app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.using(using).get_or_create(name=name)
    for (app_label, model), actions in permissions.items():
        codenames = [f"{action}_{model}" for action in actions]
        group.permissions.add(
            *Permission.objects.using(using).filter(content_type__app_label=app_label, codename__in=codenames)
        )
    return group
