"""A door access points at the integration that reported it (a foreign key); a source
key is matched whole, never parsed, so "kisi-12" is never Kisi 2 nor another kind's 12."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accessctl.models import DoorAccess
from accessctl.services import DoorEntry, door_accesses_record
from integrations.models import Integration
from integrations.selectors import integration_for_source
from tests.factories import ClientFactory, DoorFactory

MONDAY = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def lookalikes(db):
    """Kisi 2 and Kisi 12 side by side, and a Glofox 21: their keys share digits."""
    return {pk: Integration.objects.create(pk=pk, kind=kind, name=f"{kind} {pk}")
            for pk, kind in [(2, "kisi"), (12, "kisi"), (21, "glofox")]}


@pytest.mark.django_db
def test_a_source_key_names_exactly_one_integration(lookalikes):
    assert integration_for_source("kisi-12") == lookalikes[12]
    assert integration_for_source("kisi-2") == lookalikes[2]
    assert integration_for_source("glofox-21") == lookalikes[21]
    # A parser splitting at the last "-" took each of these for an integration it is not.
    for stranger in ["kisi-012", "glofox-12", "kisi-21", "perfectgym-2", "gatehouse", "kisi", "-12", ""]:
        assert integration_for_source(stranger) is None, stranger


@pytest.mark.django_db
def test_accesses_from_kisi_12_point_at_kisi_12_and_wake_all_but_it(lookalikes, monkeypatch):
    woken = []
    monkeypatch.setattr("integrations.receivers.door_accesses_notify", lambda **kw: woken.append(kw))
    client, door = ClientFactory(), DoorFactory()
    kisi_12 = lookalikes[12]
    door_accesses_record(source=kisi_12.source, integration_id=kisi_12.pk,
                         entries=[DoorEntry(client.pk, door, MONDAY, True, "evt-1")])
    access = DoorAccess.objects.get()
    assert (access.source, access.integration) == ("kisi-12", kisi_12)
    assert woken == [{"origin": kisi_12}]
    assert list(kisi_12.door_accesses.all()) == [access] and not lookalikes[2].door_accesses.exists()


@pytest.mark.django_db
def test_deleting_an_integration_keeps_its_door_accesses(lookalikes):
    client, door = ClientFactory(), DoorFactory()
    door_accesses_record(source="kisi-12", integration_id=12, entries=[DoorEntry(client.pk, door, MONDAY, True, "e")])
    lookalikes[12].delete()
    access = DoorAccess.objects.get()
    assert (access.source, access.source_ref, access.integration) == ("kisi-12", "e", None)


BEFORE = [("accessctl", "0006_export_permission"), ("integrations", "0006_roles_manager_front_desk")]
AFTER = [("accessctl", "0007_door_access_integration")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_points_stored_accesses_at_their_integration():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Integration_ = old.get_model("integrations", "Integration")
    for pk, kind in [(2, "kisi"), (12, "kisi"), (21, "glofox")]:
        Integration_.objects.create(pk=pk, kind=kind, name=f"{kind} {pk}")
    location = old.get_model("clients", "Location").objects.create(name="Uxbridge", alt_id="UX")
    door = old.get_model("accessctl", "Door").objects.create(title="Front", door_id="D1", location=location)
    client = old.get_model("clients", "Client").objects.create(first_name="Ada", source="kisi-12")
    sources = ["kisi-12", "kisi-2", "glofox-21", "glofox-12", "kisi-012", "gatehouse"]
    for n, source in enumerate(sources):
        old.get_model("accessctl", "DoorAccess").objects.create(
            client=client, door=door, accessed_at=MONDAY, source=source, source_ref=f"r{n}")
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    new = MigrationExecutor(connection).loader.project_state(AFTER).apps
    filled = dict(new.get_model("accessctl", "DoorAccess").objects.values_list("source", "integration_id"))
    assert filled == {"kisi-12": 12, "kisi-2": 2, "glofox-21": 21, "glofox-12": None, "kisi-012": None,
                      "gatehouse": None}
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
