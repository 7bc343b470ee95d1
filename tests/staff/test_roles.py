"""The two ready roles the migration makes: what each holds, and that making them again
(or on a database whose permissions do not exist yet) changes nothing twice."""

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db
roles_migration = importlib.import_module("integrations.migrations.0006_roles_manager_front_desk")
outbox_roles = importlib.import_module("integrations.migrations.0009_outbox_roles")


def held(name: str) -> set[str]:
    return {f"{app}.{codename}" for app, codename in
            Group.objects.get(name=name).permissions.values_list("content_type__app_label", "codename")}


def run_the_migration():
    # The roles migration names models that were removed since (the vendors' own delivery
    # logs): it runs with the models as they were then, and the outbox roles after it.
    then = MigrationExecutor(connection).loader.project_state(
        ("integrations", "0006_roles_manager_front_desk")).apps
    roles_migration.roles_create(then, SimpleNamespace(connection=connection))
    outbox_roles.roles_extend(apps, SimpleNamespace(connection=connection))


def test_front_desk_reads_clients_doors_and_the_access_log_and_retries_a_member():
    assert held("Front desk") == {
        "clients.view_client", "clients.view_clientidentity", "packages.view_clientpackage",
        "packages.view_booking", "accessctl.view_door", "accessctl.view_dooraccess",
        "accessctl.view_unlockattempt", "integrations.view_syncissue", "integrations.view_syncrun",
        "integrations.retry_client_sync", "integrations.view_delivery", "integrations.view_deliveryattempt",
    }


def test_manager_sees_and_retries_deliveries_and_reads_their_attempts():
    manager = held("Manager")
    assert {"integrations.view_delivery", "integrations.change_delivery",
            "integrations.view_deliveryattempt"} <= manager
    assert not {"integrations.delete_delivery", "integrations.change_deliveryattempt"} & manager


def test_manager_edits_settings_and_club_records_and_reads_the_logs():
    manager = held("Manager")
    for model in ["clients.location", "clients.locationtier", "clients.tag", "clients.identitytype",
                  "clients.client", "packages.package", "packages.clientpackage", "accessctl.door",
                  "accessctl.doorrules", "accessctl.accessrule", "accessctl.tagsequence",
                  "integrations.integration", "glofox.glofoxconfiguration"]:
        app, name = model.split(".")
        assert {f"{app}.{action}_{name}" for action in ("add", "change", "delete", "view")} <= manager, model
    assert {"accessctl.unlock_door", "integrations.retry_client_sync", "integrations.change_syncissue",
            "clients.import_client", "clients.import_location", "packages.import_package",
            "packages.import_clientpackage", "accessctl.import_door"} <= manager
    # the logs are read, never edited
    assert {"accessctl.view_dooraccess", "integrations.view_syncrun", "integrations.view_webhookevent"} <= manager
    assert not {"accessctl.change_dooraccess", "integrations.delete_syncrun",
                "accessctl.change_unlockattempt"} & manager
    # no users, groups or tasks: a superuser gives roles, and runs the task queue
    assert not {p for p in manager if p.split(".")[0] in ("auth", "django_q", "admin")}
    assert not {p for p in manager if "token" in p}, "app and vendor tokens are nobody's to read"


def test_running_it_again_changes_nothing_and_keeps_what_an_operator_added():
    before = {name: held(name) for name in roles_migration.ROLES}
    extra = Permission.objects.get(codename="view_tag")
    Group.objects.get(name="Front desk").permissions.add(extra)
    run_the_migration()
    run_the_migration()
    assert Group.objects.filter(name__in=roles_migration.ROLES).count() == 2
    assert held("Manager") == before["Manager"]
    assert held("Front desk") == before["Front desk"] | {"clients.view_tag"}


def test_on_a_database_without_the_permissions_yet_it_creates_them_first():
    Group.objects.all().delete()
    Permission.objects.filter(content_type__app_label__in=roles_migration.APPS).delete()
    run_the_migration()
    assert "accessctl.unlock_door" in held("Manager")
    assert "integrations.retry_client_sync" in held("Front desk")
