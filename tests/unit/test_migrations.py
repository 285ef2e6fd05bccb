"""Migration history: crm migrates without lookup, and today's databases upgrade in place."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader

from crm.roles import SUPPORT_GROUP, SUPPORT_PERMISSIONS, ensure_support_group

# The leaf migrations before lookup granted its own permission (crm's 0003 used to grant it).
BEFORE = [("crm", "0003_support_staff_group"), ("lookup", "0003_insights_daily_rollup")]


def test_crm_migrations_need_no_lookup_migration():
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    for leaf in graph.leaf_nodes("crm"):
        assert [node for node in graph.forwards_plan(leaf) if node[0] == "lookup"] == []


def support_permissions() -> list[tuple[str, str]]:
    group = Group.objects.get(name=SUPPORT_GROUP)
    return sorted(group.permissions.values_list("content_type__app_label", "codename"))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("granted_before", [True, False], ids=["granted-by-old-crm-0003", "not-granted"])
def test_upgrade_from_the_previous_leaf_migrations_grants_view_lookupevent_once(granted_before):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    # The group as crm's 0003 left it (a flush by an earlier test may have removed it), then
    # with the permission the old 0003 granted as well.
    Group.objects.filter(name=SUPPORT_GROUP).delete()
    # crm's 0005 grants view_interaction later in the plan, so it is not in 0003's set.
    as_of_0003 = {key: actions for key, actions in SUPPORT_PERMISSIONS.items() if key != ("crm", "interaction")}
    group = ensure_support_group(permissions=as_of_0003)
    crm_only = support_permissions()
    assert len(crm_only) == 10 and {app for app, _ in crm_only} == {"crm"}
    if granted_before:
        group.permissions.add(Permission.objects.get(content_type__app_label="lookup", codename="view_lookupevent"))
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert support_permissions() == sorted([*crm_only, ("crm", "view_interaction"), ("lookup", "view_lookupevent")])
