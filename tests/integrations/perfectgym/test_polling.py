"""The poller (integrations.polling) with Perfect Gym: a change queues its sync once, never
while a run holds it or awaits a worker, never when poll_seconds is 0, and a poller gives its
worker back as soon as other tasks wait."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import OrmQ, Schedule

from clients.models import Client
from integrations import polling
from integrations.connectors import connector_for
from integrations.models import SyncRun, SyncState
from integrations.polling import POLL_SCHEDULE, Poller, changes_poll, poll_run
from integrations.services import integration_save
from integrations.tasks import sync_task
from tests.integrations.perfectgym.conftest import pg_settings

pytestmark = pytest.mark.django_db


def queued():
    """The tasks waiting in the broker, as (function, args)."""
    return [(task.func(), task.args()) for task in OrmQ.objects.order_by("pk")]


def asked_members(sandbox, since) -> int:
    """How often the poller asked about members (the sync's own reads are not counted)."""
    return sum(1 for c in sandbox.calls[since:] if c.path == "odata/Members" and c.query.get("$top") == "1")


def test_a_change_queues_its_sync_once_and_the_run_takes_it(sandbox, synced):
    sandbox.member_put(11, lastName="Polled")
    connector = connector_for(synced)
    assert changes_poll(connector=connector) == ["members"]
    assert queued() == [("integrations.tasks.sync_task", (synced.pk, "members", SyncRun.Trigger.POLL))]
    before = len(sandbox.calls)
    assert changes_poll(connector=connector) == []  # queued, not started: not asked again
    assert queued() == [("integrations.tasks.sync_task", (synced.pk, "members", SyncRun.Trigger.POLL))]
    assert asked_members(sandbox, before) == 0
    sync_task(*queued()[0][1])  # the worker runs it
    assert Client.objects.get(external_id="11").last_name == "Polled"
    assert SyncRun.objects.filter(sync_name="members", trigger=SyncRun.Trigger.POLL).count() == 1
    assert SyncState.objects.get(integration=synced, sync_name="members").wake_queued_at is None
    assert changes_poll(connector=connector) == []  # read: nothing waits any more
    assert asked_members(sandbox, before) == 1 and len(queued()) == 1


def test_a_running_sync_is_not_asked_about_or_queued(sandbox, synced):
    holder = SyncRun.objects.create(integration=synced, sync_name="members")
    SyncState.objects.filter(integration=synced, sync_name="members").update(
        claimed_by=holder, lease_until=timezone.now() + timedelta(minutes=5))
    sandbox.member_put(11, lastName="Polled")
    before = len(sandbox.calls)
    assert changes_poll(connector=connector_for(synced)) == []
    assert asked_members(sandbox, before) == 0 and queued() == []


def test_a_sync_whose_last_run_failed_is_left_to_its_schedule(sandbox, synced):
    SyncRun.objects.create(integration=synced, sync_name="members", status=SyncRun.Status.FAILED,
                           finished_at=timezone.now(), error="PermanentError: no")
    sandbox.member_put(11, lastName="Polled")
    assert changes_poll(connector=connector_for(synced)) == []
    assert queued() == []


def test_poll_seconds_say_how_often_and_zero_switches_it_off(sandbox, synced):
    now = [100.0]
    poller = Poller(clock=lambda: now[0])
    before = len(sandbox.calls)
    assert poller.look() == []  # default 5 s: asked now
    now[0] += 4
    assert poller.look() == []  # not due yet
    assert asked_members(sandbox, before) == 1
    now[0] += 1
    sandbox.member_put(11, lastName="Polled")
    assert poller.look() == [(synced.pk, "members")]
    OrmQ.objects.all().delete()
    SyncState.objects.update(wake_queued_at=None)
    synced = integration_save(integration=synced, name=synced.name, settings={**synced.settings, "poll_seconds": 0},
                              secrets={})
    assert synced.secrets()["client_secret"]  # kept: only polling is off
    now[0] += 60
    before = len(sandbox.calls)
    assert poller.look() == [] and sandbox.calls[before:] == [] and queued() == []


def test_the_settings_form_offers_poll_seconds_for_vendors_that_answer(customer_number):
    fields = {field.name: field for field in connector_for(
        integration_save(kind="perfectgym", name="PG", settings=pg_settings(customer_number),
                         secrets={"client_secret": "x"})).form_fields()}
    assert fields["poll_seconds"].form_field.initial == 5 and fields["poll_seconds"].form_field.min_value == 0


def test_a_poller_gives_its_worker_back_when_tasks_wait(sandbox, synced, monkeypatch):
    monkeypatch.setattr(polling, "tasks_waiting", lambda: 1)
    summary = poll_run(pause=lambda seconds: None)
    assert summary.startswith("gave its worker to waiting tasks after 1 look(s)")
    handover = Schedule.objects.get(name=POLL_SCHEDULE).next_run
    assert queued() == [("integrations.tasks.poll_task", ())]
    assert OrmQ.objects.get().kwargs() == {"handover": handover.isoformat()}


def test_a_poller_hands_over_when_the_schedule_starts_the_next(sandbox, synced, monkeypatch):
    monkeypatch.setattr(polling, "tasks_waiting", lambda: 0)
    schedule = Schedule.objects.get(name=POLL_SCHEDULE)
    looks = []

    def pause(seconds):
        looks.append(seconds)
        if len(looks) == 3:  # django-q2 starts the next poller
            Schedule.objects.filter(pk=schedule.pk).update(next_run=schedule.next_run + timedelta(minutes=1))

    assert poll_run(intended=(schedule.next_run - timedelta(minutes=1)).isoformat(), pause=pause) == \
        "handed over after 3 look(s), 0 sync(s) queued"
    assert queued() == []


def test_no_poll_schedule_no_polling(sandbox, synced):
    Schedule.objects.filter(name=POLL_SCHEDULE).update(repeats=0)
    before = len(sandbox.calls)
    assert poll_run(pause=lambda seconds: None) == "polling is off (no poll schedule)"
    assert sandbox.calls[before:] == []


def test_a_failing_vendor_is_asked_once_not_retried_and_again_a_minute_later(sandbox, synced, caplog):
    now = [100.0]
    poller = Poller(clock=lambda: now[0])
    sandbox.inject(status=503, path="odata/Members", times=5)
    before = len(sandbox.calls)
    assert poller.look() == []
    assert len(sandbox.calls) - before == 1  # one short call, no retries holding the worker
    assert "could not ask for changes: TransientError" in caplog.text
    now[0] += 30
    assert poller.look() == [] and len(sandbox.calls) - before == 1
    sandbox.faults_clear()
    sandbox.member_put(11, lastName="Polled")
    now[0] += 30
    assert poller.look() == [(synced.pk, "members")]
