"""Create the "Support staff" group: view/add/change customers, phones, tiers (lookup grants its own)."""

from django.db import migrations


def create_group(apps, schema_editor):
    from crm.roles import SUPPORT_PERMISSIONS, ensure_support_group

    ensure_support_group(apps, using=schema_editor.connection.alias, permissions=SUPPORT_PERMISSIONS)


class Migration(migrations.Migration):

    dependencies = [
        ("crm", "0002_customer_search_indexes"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(create_group, migrations.RunPython.noop),
    ]
