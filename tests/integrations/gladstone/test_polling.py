"""The poller (integrations.polling) with Gladstone: a member change queues the members sync
within one look, read from a change queue of the poller's own, so the sync's own queue keeps
every change until the sync has read and acknowledged it."""

import pytest
from django_q.models import OrmQ

from clients.models import Client
from integrations.connectors import connector_for
from integrations.gladstone import changes
from integrations.gladstone.connector import GladstoneConnector
from integrations.gladstone.contract import poll_system_name
from integrations.models import SyncRun
from integrations.polling import changes_poll
from integrations.tasks import sync_task
from tests.integrations.gladstone.conftest import add_member, make_integration, sync

pytestmark = pytest.mark.django_db


def queued():
    return [(task.func(), task.args()) for task in OrmQ.objects.order_by("pk")]


@pytest.fixture
def synced(gladstone, club):
    """Three members, synced: the sync's queue is empty."""
    for n in range(3):
        add_member(gladstone, email=f"m{n}@example.com")
    integration = make_integration()
    sync(integration)
    assert gladstone.queued("Gatehouse") == []
    return integration


def test_a_member_change_queues_the_sync_and_its_own_queue_keeps_the_change(gladstone, synced):
    connector = connector_for(synced)
    # The poller's queue is new, so it starts with every member: the first look drains it.
    assert changes_poll(connector=connector) == ["members"]
    sync_task(*queued()[0][1])  # the worker runs it (nothing to read)
    OrmQ.objects.all().delete()
    assert changes_poll(connector=connector) == []
    assert gladstone.queued(poll_system_name("Gatehouse")) == []

    member = next(iter(gladstone.members))
    gladstone.member_put(member, surname="Polled")
    assert changes_poll(connector=connector) == ["members"]
    assert queued() == [("integrations.tasks.sync_task", (synced.pk, "members", SyncRun.Trigger.POLL))]
    # Asking never touched the sync's queue: the change is still there, unstamped.
    assert gladstone.queued("Gatehouse") == [member]
    assert all(entry["run"] is None for entry in gladstone.queues["Gatehouse"])
    sync_task(*queued()[0][1])
    assert Client.objects.get(external_id=str(member)).last_name == "Polled"
    assert gladstone.queued("Gatehouse") == []


def test_a_change_made_while_a_run_reads_is_not_dropped_by_its_acknowledgement(gladstone, synced):
    connector = connector_for(synced)
    changes_poll(connector=connector)  # drain the poller's first queue
    first, second = list(gladstone.members)[:2]
    gladstone.member_put(first, surname="First")
    client = connector.client()
    client.member_changes(system_name="Gatehouse", last_run_id=1, run_id=2)  # a run has read `first`
    gladstone.member_put(second, surname="Second")  # then `second` changes
    assert connector.changes_waiting("members", None) is True  # the poller looks meanwhile
    client.member_changes_cleanup(system_name="Gatehouse")  # the run acknowledges what it read
    assert gladstone.queued("Gatehouse") == [second]  # still queued for the next run


def test_a_new_queue_is_drained_in_bounded_looks(gladstone, synced, monkeypatch):
    gladstone.change_batch = 1  # three members: three batches
    monkeypatch.setattr(changes, "MAX_DRAIN_CALLS", 2)
    connector = connector_for(synced)
    assert connector.changes_waiting("members", None) is True
    assert len(gladstone.queued(poll_system_name("Gatehouse"))) == 1  # the rest, for the next look
    assert connector.changes_waiting("members", None) is True
    assert connector.changes_waiting("members", None) is False


def test_door_accesses_are_left_to_their_schedule(gladstone, synced):
    assert connector_for(synced).changes_waiting("accesses", None) is None


def test_the_settings_offer_poll_seconds():
    assert "poll_seconds" in {field.name for field in GladstoneConnector.form_fields()}
