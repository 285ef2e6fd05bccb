"""Trim and upper-case existing customer IDs; refuse, naming them, when two would become one."""

from django.db import migrations


def normalise(apps, schema_editor):
    Customer = apps.get_model("crm", "Customer")
    db = schema_editor.connection.alias
    # One streamed pass over every ID: collisions need all of them.
    wanted: dict[str, list[str]] = {}
    odd = []
    for pk, customer_id in Customer.objects.using(db).values_list("pk", "customer_id").iterator(chunk_size=10_000):
        normal = customer_id.strip().upper()
        wanted.setdefault(normal, []).append(customer_id)
        if normal != customer_id:
            odd.append((pk, normal))
    collisions = sorted(sorted(ids) for ids in wanted.values() if len(ids) > 1)
    if collisions:
        listed = "; ".join(" and ".join(repr(i) for i in ids) for ids in collisions[:20])
        more = f" (and {len(collisions) - 20} more)" if len(collisions) > 20 else ""
        raise RuntimeError(
            "Cannot normalise customer IDs (trimmed, upper-case): these would become the same ID: "
            f"{listed}{more}. Rename or merge one customer of each pair in the admin, then run migrate again."
        )
    for pk, normal in odd:
        Customer.objects.using(db).filter(pk=pk).update(customer_id=normal)


class Migration(migrations.Migration):

    dependencies = [
        ("crm", "0003_support_staff_group"),
    ]

    operations = [
        migrations.RunPython(normalise, migrations.RunPython.noop),
    ]
