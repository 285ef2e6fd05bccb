"""Support staff may view interactions (crm.roles.SUPPORT_PERMISSIONS)."""

from django.db import migrations


def add_permission(apps, schema_editor):
    from crm.roles import ensure_support_group

    ensure_support_group(apps, using=schema_editor.connection.alias)


class Migration(migrations.Migration):

    dependencies = [
        ("crm", "0004_interaction"),
    ]

    operations = [
        migrations.RunPython(add_permission, migrations.RunPython.noop),
    ]
