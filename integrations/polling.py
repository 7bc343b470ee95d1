"""Polling: a change at a vendor reaches Gatehouse within seconds, between scheduled runs.

django-q2 starts one poller a minute (`integrations.tasks.poll_task`, the schedule
"gatehouse:poll" a migration creates). A poller runs until that schedule has started the
next one, so one poller looks at a time and hands over without a gap. Every second it:

- gives its worker back when other tasks wait for one (webhooks, initial syncs, check-ins):
  it queues the rest of itself behind them and returns;
- asks each active integration whose `poll_seconds` are up, for each sync its schedule runs,
  the connector's cheap question `changes_waiting(sync, cursor)`; on a yes it queues that
  sync (trigger "poll") unless a run holds it or a queued one has not started yet.

A sync whose last run failed is left to its schedule (polling would rerun it every few
seconds), and so is every sync of a vendor that has no cheap "changed since" question.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import Schedule
from django_q.status import Stat
from django_q.tasks import async_task

from integrations.connectors import Connector, connector_classes, connector_for
from integrations.models import Integration, SyncRun, SyncState
from integrations.wakes import sync_wake, wake_pending

logger = logging.getLogger("gatehouse.polling")
POLL_SCHEDULE = "gatehouse:poll"
POLL_TASK = "integrations.tasks.poll_task"
TICK_SECONDS = 1.0  # how often a poller checks for waiting tasks and due integrations
MAX_SECONDS = 300  # a poller never runs longer (well under Q_TIMEOUT), even if its schedule stops
ERROR_PAUSE_SECONDS = 60  # a vendor that failed the question is asked again after this


def tasks_waiting(broker=None) -> int:
    """Tasks no worker has started yet: those in the broker, plus those a cluster has fetched
    and holds for its next free worker (django-q2's cluster status, `task_q_size`)."""
    broker = broker or get_broker()
    fetched = sum(getattr(stat, "task_q_size", 0) or 0 for stat in Stat.get_all(broker=broker))
    return (broker.queue_size() or 0) + fetched


def _poll_schedule_next_run():
    return Schedule.objects.filter(name=POLL_SCHEDULE).exclude(repeats=0).values_list("next_run", flat=True).first()


def handover_at(intended: str | None = None) -> datetime | None:
    """The poll schedule's next run after the one that started this poller (`intended`, the
    time django-q2 ran it for): once the schedule has moved past it, a newer poller has
    started. None when polling is switched off (no active poll schedule)."""
    next_run = _poll_schedule_next_run()
    if next_run is None:
        return None
    if intended:  # the schedule row may not show this poller's start yet (Redis queues before it saves)
        next_run = max(next_run, datetime.fromisoformat(intended) + timedelta(minutes=1))
    return next_run


def superseded(handover: datetime) -> bool:
    """Whether a newer poller has started (or polling was switched off)."""
    next_run = _poll_schedule_next_run()
    return next_run is None or next_run > handover


def _busy(state: SyncState | None, now) -> bool:
    """A run holds the sync, or one the poller queued has not started yet."""
    if state is None:
        return False
    held = state.claimed_by_id is not None and state.lease_until is not None and state.lease_until >= now
    return held or wake_pending(state, now=now)


def _last_run_failed(integration: Integration, sync_name: str) -> bool:
    last = (SyncRun.objects.filter(integration=integration, sync_name=sync_name)
            .exclude(trigger=SyncRun.Trigger.INITIAL).order_by("-started_at")
            .values_list("status", flat=True).first())
    return last == SyncRun.Status.FAILED


def changes_poll(*, connector: Connector) -> list[str]:
    """Ask the vendor, for each sync of the connector's integration that its schedule runs and
    that no run holds or awaits, whether changes wait; queue a run of each that has some.

    Returns the names of the syncs queued. A vendor failure raises VendorError."""
    integration = connector.integration
    names = [spec.name for spec in connector.syncs if spec.scheduled and connector.sync_interval(spec)]
    states = {s.sync_name: s for s in SyncState.objects.filter(integration=integration, sync_name__in=names)}
    queued = []
    for name in names:
        state, now = states.get(name), timezone.now()
        if _busy(state, now) or _last_run_failed(integration, name):
            continue
        if not connector.changes_waiting(name, state.cursor if state else None):
            continue
        if sync_wake(integration=integration, sync_name=name, why="for a change seen",
                     trigger=SyncRun.Trigger.POLL, when_free=True):
            queued.append(name)
    return queued


@dataclass
class Poller:
    """One poller's memory: the connectors it asks (their HTTP sessions and pacing kept from
    one look to the next) and when each integration is due again."""

    clock: Callable[[], float] = time.monotonic
    connectors: dict[int, tuple[datetime, Connector]] = field(default_factory=dict)
    due: dict[int, float] = field(default_factory=dict)

    def _connector(self, integration: Integration) -> Connector:
        known = self.connectors.get(integration.pk)
        if known is None or known[0] != integration.updated_at:  # settings saved: build it again
            known = self.connectors[integration.pk] = (integration.updated_at, connector_for(integration))
        return known[1]

    def look(self) -> list[tuple[int, str]]:
        """Ask every active integration that is due; return the (integration, sync) queued."""
        kinds = [kind for kind, cls in connector_classes().items() if cls.polls_changes()]
        queued = []
        for integration in Integration.objects.filter(is_active=True, kind__in=kinds):
            now = self.clock()
            connector = self._connector(integration)
            seconds = connector.poll_seconds()
            if seconds <= 0 or self.due.get(integration.pk, 0) > now:
                continue
            self.due[integration.pk] = now + seconds
            try:
                queued += [(integration.pk, name) for name in changes_poll(connector=connector)]
            except Exception as error:  # noqa: BLE001 - one vendor's failure never stops the others
                self.due[integration.pk] = now + max(seconds, ERROR_PAUSE_SECONDS)
                logger.warning("integration=%s could not ask for changes: %s: %s",
                               integration.pk, type(error).__name__, error)
        return queued


def poll_run(*, intended: str | None = None, handover: datetime | None = None,
             pause: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> str:
    """Look for changes every TICK_SECONDS until a newer poller has started (or MAX_SECONDS
    have passed). When other tasks wait for a worker, queue the rest of this poller behind
    them and return at once."""
    handover = handover or handover_at(intended)
    if handover is None:
        return "polling is off (no poll schedule)"
    poller, started, looks, queued = Poller(clock=clock), clock(), 0, 0
    while clock() - started < MAX_SECONDS:
        queued += len(poller.look())
        looks += 1
        pause(TICK_SECONDS)  # also lets the clusters' status catch up with this task's own start
        if superseded(handover):
            return f"handed over after {looks} look(s), {queued} sync(s) queued"
        if tasks_waiting():
            async_task(POLL_TASK, handover=handover.isoformat(), task_name="poll for changes (continued)")
            return f"gave its worker to waiting tasks after {looks} look(s), {queued} sync(s) queued"
    return f"stopped after {looks} look(s), {queued} sync(s) queued"
