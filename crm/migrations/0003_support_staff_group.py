"""Create the "Support staff" group: view/add/change customers, phones, tiers; view lookup events."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Support staff"
PERMISSIONS = {
    ("crm", "customer"): ["view", "add", "change"],
    ("crm", "customerphone"): ["view", "add", "change", "delete"],
    ("crm", "tier"): ["view", "add", "change"],
    ("lookup", "lookupevent"): ["view"],
}


def create_group(apps, schema_editor):
    # Permissions are normally created by post_migrate, after every migration has run; on a
    # fresh database they do not exist yet, so create them here for the apps involved.
    for app_label in {"crm", "lookup"}:
        app_config = apps.get_app_config(app_label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.using(schema_editor.connection.alias).get_or_create(name=GROUP)
    for (app_label, model), actions in PERMISSIONS.items():
        codenames = [f"{action}_{model}" for action in actions]
        permissions = Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
        group.permissions.add(*permissions)


class Migration(migrations.Migration):

    dependencies = [
        ("crm", "0002_customer_search_indexes"),
        ("lookup", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(create_group, migrations.RunPython.noop),
    ]
