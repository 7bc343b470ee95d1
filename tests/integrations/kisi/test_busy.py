"""A reconcile woken for changed clients while another reconcile runs waits for it, instead
of being dropped (the running one may have read those clients before they changed)."""

import pytest

from integrations import tasks
from integrations.models import SyncRun, SyncState
from integrations.tasks import sync_task
from tests.integrations.kisi.test_reconcile import holder, members_group_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy(kisi_integration):
    """The access sync claimed by a run that is still going."""
    other = SyncRun.objects.create(integration=kisi_integration, sync_name="access", status=SyncRun.Status.RUNNING)
    state, _ = SyncState.objects.get_or_create(integration=kisi_integration, sync_name="access")
    SyncState.objects.filter(pk=state.pk).update(claimed_by=other, lease_until=other.started_at.replace(year=2099))
    return state


def test_a_woken_reconcile_waits_for_the_running_one_and_then_gives_the_access(
        kisi, kisi_integration, package_rule, membership, busy, monkeypatch):
    member = holder(membership, email="late@example.com")
    waits = []

    def other_run_ends(seconds):
        waits.append(seconds)
        SyncState.objects.filter(pk=busy.pk).update(claimed_by=None, lease_until=None)

    monkeypatch.setattr(tasks, "_pause", other_run_ends)
    summary = sync_task(kisi_integration.pk, "access", SyncRun.Trigger.ACCESS, {"clients": [member.pk]})
    assert waits == [tasks.BUSY_POLL_SECONDS] and summary.startswith("access: succeeded")
    assert "late@example.com" in kisi.group_members(members_group_id(kisi))


def test_a_woken_reconcile_gives_up_when_the_running_one_outlasts_the_wait(
        kisi, kisi_integration, package_rule, membership, busy, monkeypatch):
    member = holder(membership, email="late@example.com")
    monkeypatch.setattr(tasks, "BUSY_WAIT_SECONDS", 0.05)
    monkeypatch.setattr(tasks, "_pause", lambda seconds: None)
    summary = sync_task(kisi_integration.pk, "access", SyncRun.Trigger.ACCESS, {"clients": [member.pk]})
    assert summary.startswith("skipped:") and "already running" in summary
    assert not kisi.group_members(members_group_id(kisi))


def test_a_scheduled_run_that_finds_its_sync_busy_is_skipped_at_once(kisi_integration, busy, monkeypatch):
    monkeypatch.setattr(tasks, "_pause", lambda seconds: pytest.fail("a scheduled run never waits"))
    assert sync_task(kisi_integration.pk, "access").startswith("skipped:")
