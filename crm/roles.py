"""The "Support staff" group: what support staff may do in the admin."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions

SUPPORT_GROUP = "Support staff"

# Customers, phones and tiers: view, add, change (and phones delete, so a customer's old
# number can be removed on their page). Lookup events: view. Nothing on tokens, users, groups.
SUPPORT_PERMISSIONS = {
    ("crm", "customer"): ["view", "add", "change"],
    ("crm", "customerphone"): ["view", "add", "change", "delete"],
    ("crm", "tier"): ["view", "add", "change"],
    ("lookup", "lookupevent"): ["view"],
    ("crm", "interaction"): ["view"],
}


def ensure_support_group(apps=global_apps, using: str = "default"):
    """Create the group with its permissions if missing; works with a migration's historical apps too."""
    # Permissions are normally created by post_migrate, after every migration has run; on a
    # fresh database they do not exist yet when the data migration runs, so create them here.
    for app_label in {app for app, _model in SUPPORT_PERMISSIONS}:
        app_config = apps.get_app_config(app_label)
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True  # historical app configs have none
        try:
            create_permissions(app_config, apps=apps, verbosity=0, using=using)
        finally:
            app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.using(using).get_or_create(name=SUPPORT_GROUP)
    for (app_label, model), actions in SUPPORT_PERMISSIONS.items():
        codenames = [f"{action}_{model}" for action in actions]
        group.permissions.add(
            *Permission.objects.using(using).filter(content_type__app_label=app_label, codename__in=codenames)
        )
    return group
