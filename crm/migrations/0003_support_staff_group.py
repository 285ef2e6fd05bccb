"""Create the "Support staff" group: view/add/change customers, phones, tiers; view lookup events."""

from django.db import migrations


def create_group(apps, schema_editor):
    from crm.roles import ensure_support_group

    ensure_support_group(apps, using=schema_editor.connection.alias)


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
