"""Waking a sync for a vendor's "something changed" event, once per burst.

An event that carries no data we trust (Perfect Gym's unsigned webhooks) only says "read
the vendor now". Many such events while a woken run is still queued need nothing more:
that run claims the sync after they arrived, so it reads their changes. The flag is
SyncState.wake_queued_at, set with one conditional UPDATE (so two web processes never
both queue) and cleared when a run claims the sync (integrations.sync) or a woken run gives
up waiting for a busy one (integrations.tasks). A burst therefore costs at most the run in
progress plus one more. The poller (integrations.polling) wakes a sync the same way when
its cheap question says changes wait.
"""

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from integrations.models import Integration, SyncRun, SyncState
from integrations.queue import task_queue

# A flag older than this is taken to be a lost task (a worker killed before it ran),
# so a new wake queues again instead of waiting for the schedule.
WAKE_STALE = timedelta(minutes=5)


def sync_wake(*, integration: Integration, sync_name: str, why: str,
              trigger: str = SyncRun.Trigger.WEBHOOK, when_free: bool = False) -> bool:
    """Queue a woken run of `sync_name` unless one is queued and has not started yet; with
    `when_free` (the poller), also not while a run holds the sync (it is asked again later).

    Returns whether a run was queued. The run reads the vendor from its cursor; nothing of
    the event is handed to it. Queued with the caller's transaction (integrations.queue).
    """
    state, _ = SyncState.objects.get_or_create(integration=integration, sync_name=sync_name)
    now = timezone.now()
    free = SyncState.objects.filter(pk=state.pk).filter(
        Q(wake_queued_at__isnull=True) | Q(wake_queued_at__lt=now - WAKE_STALE))
    if when_free:
        free = free.filter(Q(claimed_by__isnull=True) | Q(lease_until__lt=now))
    if not free.update(wake_queued_at=now):
        return False
    task_queue("integrations.tasks.sync_task", integration.pk, sync_name, trigger,
               task_name=f"integration {integration.pk}: {sync_name} {why}")
    return True


def wake_pending(state: SyncState, *, now) -> bool:
    """Whether a woken run of this sync is queued and has not claimed it yet."""
    return state.wake_queued_at is not None and state.wake_queued_at >= now - WAKE_STALE


def sync_wake_done(*, integration_id: int, sync_name: str) -> None:
    """The woken run has claimed the sync (or given up): the next wake queues another."""
    SyncState.objects.filter(integration_id=integration_id, sync_name=sync_name,
                             wake_queued_at__isnull=False).update(wake_queued_at=None)
