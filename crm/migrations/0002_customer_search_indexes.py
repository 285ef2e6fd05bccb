"""Index for the admin's case-insensitive last-name prefix search (PostgreSQL only)."""

from django.db import migrations

# Django's istartswith on PostgreSQL is UPPER("col"::text) LIKE UPPER('term%'); only an
# expression index with text_pattern_ops serves it whatever the database collation.
# Customer ID prefixes need none: Django already keeps a varchar_pattern_ops index on the
# unique customer_id for startswith. One name index only: each one costs about 15% of
# seed_customers' insert rate, and last names are what support staff search by.
# SQLite has no such index type and its small databases do not need one.
COLUMNS = ["last_name"]


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS crm_customer_{column}_upper_prefix "
            f"ON crm_customer (UPPER({column}::text) text_pattern_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS crm_customer_{column}_upper_prefix")


class Migration(migrations.Migration):

    dependencies = [
        ("crm", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes),
    ]
