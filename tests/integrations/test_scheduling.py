"""Schedules follow an integration's settings by name; runs never overlap."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule

from integrations.models import SyncRun, SyncState
from integrations.services import integration_delete, integration_save
from integrations.sync import SyncAlreadyRunning, claim, sync_run

pytestmark = pytest.mark.django_db


def test_saving_an_integration_creates_its_schedule_by_name(integration):
    schedule = Schedule.objects.get(name=f"integration:{integration.pk}:members")
    assert schedule.func == "integrations.tasks.sync_task"
    assert (schedule.minutes, schedule.repeats) == (5, -1)
    assert schedule.args == repr((integration.pk, "members"))


def test_changing_the_interval_updates_the_same_schedule(integration):
    integration_save(integration=integration, name=integration.name, secrets={},
                     settings={**integration.settings, "member_minutes": 15})
    assert Schedule.objects.filter(name__startswith=f"integration:{integration.pk}:").count() == 1
    assert Schedule.objects.get(name=f"integration:{integration.pk}:members").minutes == 15


def test_inactive_pauses_and_active_again_resumes(integration):
    integration_save(integration=integration, name=integration.name, is_active=False,
                     settings=integration.settings, secrets={})
    assert Schedule.objects.get(name=f"integration:{integration.pk}:members").repeats == 0
    integration_save(integration=integration, name=integration.name, is_active=True,
                     settings=integration.settings, secrets={})
    resumed = Schedule.objects.get(name=f"integration:{integration.pk}:members")
    assert resumed.repeats == -1 and resumed.next_run <= timezone.now()


def test_deleting_the_integration_removes_its_schedules(integration):
    integration_delete(integration=integration)
    assert not Schedule.objects.filter(name__startswith="integration:").exists()


def test_a_second_claim_on_a_running_sync_is_refused(integration):
    state = SyncState.objects.create(integration=integration, sync_name="members")
    first = SyncRun.objects.create(integration=integration, sync_name="members")
    second = SyncRun.objects.create(integration=integration, sync_name="members")
    assert claim(state=state, run=first) is True
    assert claim(state=state, run=second) is False


def test_sync_refuses_to_start_while_another_run_holds_it(sandbox, integration):
    state = SyncState.objects.create(integration=integration, sync_name="members")
    holder = SyncRun.objects.create(integration=integration, sync_name="members")
    claim(state=state, run=holder)
    with pytest.raises(SyncAlreadyRunning):
        sync_run(integration=integration, sync_name="members")
    assert SyncRun.objects.count() == 1


def test_a_dead_runs_lease_expires_and_the_next_run_takes_over(sandbox, integration):
    state = SyncState.objects.create(integration=integration, sync_name="members")
    dead = SyncRun.objects.create(integration=integration, sync_name="members")
    claim(state=state, run=dead)
    SyncState.objects.filter(pk=state.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    run = sync_run(integration=integration, sync_name="members")
    assert run.status == SyncRun.Status.SUCCEEDED
    dead.refresh_from_db()
    assert dead.status == SyncRun.Status.ABANDONED
