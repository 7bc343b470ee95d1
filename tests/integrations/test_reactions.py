"""A member system's sync wakes the door system for exactly the clients that changed."""

import pytest
from django_q.conf import Conf

from clients.models import Client
from integrations.connectors import Connector, SyncSpec
from integrations.models import Integration, SyncRun
from integrations.sync import Counts, Page, SyncJob, sync_run

pytestmark = pytest.mark.django_db
RECONCILED: list = []


class Reconcile(SyncJob):
    def pages(self, cursor):
        RECONCILED.append(self.options.get("clients"))
        yield Page([], cursor=None)

    def apply(self, records):
        return Counts()


class RecordingDoors(Connector):
    kind = "recordingdoors"
    label = "Recording door system"
    syncs = [SyncSpec("reconcile", "Reconcile", job=Reconcile, default_minutes=1)]
    access_sync = "reconcile"


@pytest.fixture
def doors(settings, monkeypatch):
    settings.INTEGRATION_CONNECTORS = [*settings.INTEGRATION_CONNECTORS,
                                       "tests.integrations.test_reactions.RecordingDoors"]
    monkeypatch.setattr(Conf, "SYNC", True)
    RECONCILED.clear()
    return Integration.objects.create(kind="recordingdoors", name="Doors")


def test_changed_clients_reach_the_door_system(sandbox, integration, doors, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sync_run(integration=integration, sync_name="members")
    assert RECONCILED == [sorted(Client.objects.values_list("pk", flat=True))]
    assert SyncRun.objects.get(integration=doors).trigger == SyncRun.Trigger.ACCESS


def test_unchanged_clients_wake_nobody(sandbox, integration, doors, django_capture_on_commit_callbacks):
    sync_run(integration=integration, sync_name="members")
    RECONCILED.clear()
    sandbox.member_put("m1", first_name="Changed")
    sandbox.member_put("m2", first_name="First2")  # same data
    with django_capture_on_commit_callbacks(execute=True):
        sync_run(integration=integration, sync_name="members")
    assert RECONCILED == [[Client.objects.get(external_id="m1").pk]]


def test_inactive_door_system_is_not_woken(sandbox, integration, doors, django_capture_on_commit_callbacks):
    doors.is_active = False
    doors.save()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        sync_run(integration=integration, sync_name="members")
    assert RECONCILED == [] and callbacks == []
