"""Let the "Support staff" group (crm) view lookup events: the audit trail and the insights pages."""

from django.db import migrations

# Frozen here, as migrations are: what this step grants, whatever the app grants later.
PERMISSIONS = {("lookup", "lookupevent"): ["view"]}


def grant(apps, schema_editor):
    from crm.roles import ensure_support_group

    ensure_support_group(apps, using=schema_editor.connection.alias, permissions=PERMISSIONS)


def revoke(apps, schema_editor):
    from crm.roles import SUPPORT_GROUP

    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    alias = schema_editor.connection.alias
    for (app_label, model), actions in PERMISSIONS.items():
        codenames = [f"{action}_{model}" for action in actions]
        permissions = Permission.objects.using(alias).filter(content_type__app_label=app_label, codename__in=codenames)
        for group in Group.objects.using(alias).filter(name=SUPPORT_GROUP):
            group.permissions.remove(*permissions)


class Migration(migrations.Migration):

    dependencies = [
        ("lookup", "0003_insights_daily_rollup"),
        ("crm", "0003_support_staff_group"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(grant, revoke),
    ]
