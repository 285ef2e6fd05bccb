"""Create the "Support leads" group: reading the edit history of customers, phones and tiers."""

from django.db import migrations

# Frozen here, as migrations are: what this step grants, whatever the app grants later.
PERMISSIONS = {
    ("crm", "historicalcustomer"): ["view"],
    ("crm", "historicalcustomerphone"): ["view"],
    ("crm", "historicaltier"): ["view"],
}


def create_group(apps, schema_editor):
    from crm.roles import ensure_lead_group

    ensure_lead_group(apps, using=schema_editor.connection.alias, permissions=PERMISSIONS)


def delete_group(apps, schema_editor):
    from crm.roles import LEAD_GROUP

    apps.get_model("auth", "Group").objects.using(schema_editor.connection.alias).filter(name=LEAD_GROUP).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("crm", "0007_support_staff_view_interactions"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(create_group, delete_group),
    ]
