"""Is the service able to work? The checks behind /readyz, the staff dashboard and the
readiness alert: one function, `readiness()`, for all three.

- database: a query answers;
- broker: django-q2's broker answers (Redis, or the database's task table);
- worker: a task worker ran the heartbeat task (every minute) recently, which proves the
  scheduler fires, the broker delivers and a worker runs what it is given;
- schedules: no active schedule is overdue by more than its interval plus a margin.

Each check is a `Check` with a short detail for staff; anonymous callers see only names
and states (integrations.probes).
"""

import logging
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import Schedule

from integrations.models import WorkerHeartbeat

logger = logging.getLogger("gatehouse.health")
CRON_INTERVAL = timedelta(days=1)  # a cron schedule's interval when croniter cannot say


@dataclass(frozen=True)
class Check:
    """One readiness check: its name, whether it passed, and a line for staff."""

    name: str
    ok: bool
    detail: str = ""

    @property
    def state(self) -> str:
        return "ok" if self.ok else "fail"


def _database(now: datetime) -> Check:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return Check("database", True, f"{connection.vendor} answers")


def _broker(now: datetime) -> Check:
    broker = get_broker()
    broker.ping()  # Redis raises when it is down; the database broker is the database
    return Check("broker", True, f"{broker.info()}: {broker.queue_size()} task(s) queued")


def _worker(now: datetime) -> Check:
    limit = timedelta(seconds=settings.HEALTH_WORKER_MAX_AGE_SECONDS)
    latest = WorkerHeartbeat.objects.order_by("-beat_at").first()
    if latest is None:
        return Check("worker", False, "no task worker has ever run the heartbeat task")
    age = now - latest.beat_at
    fresh = WorkerHeartbeat.objects.filter(beat_at__gte=now - limit).count()
    detail = (f"last heartbeat {int(age.total_seconds())} s ago; {fresh} machine(s) within "
              f"{int(limit.total_seconds())} s")
    return Check("worker", age <= limit, detail)


def schedule_interval(schedule: Schedule) -> timedelta:
    """How long django-q2 waits between two runs of `schedule` (0 for a one-off)."""
    if schedule.schedule_type == Schedule.ONCE:
        return timedelta(0)
    try:
        return schedule.calculate_next_run(schedule.next_run) - schedule.next_run
    except ImportError:  # a cron schedule without croniter installed
        return CRON_INTERVAL


def schedules_overdue(*, now: datetime | None = None) -> list[Schedule]:
    """Active schedules whose next run is later than their interval plus the margin."""
    now = now or timezone.now()
    margin = timedelta(minutes=settings.HEALTH_SCHEDULE_MARGIN_MINUTES)
    due = Schedule.objects.exclude(repeats=0).filter(next_run__lt=now - margin).order_by("next_run")
    return [s for s in due if s.next_run < now - schedule_interval(s) - margin]


def _schedules(now: datetime) -> Check:
    late = schedules_overdue(now=now)
    if not late:
        return Check("schedules", True, f"{Schedule.objects.exclude(repeats=0).count()} active, none overdue")
    names = ", ".join(s.name or s.func for s in late[:5])
    return Check("schedules", False, f"{len(late)} overdue: {names}{' ...' if len(late) > 5 else ''}")


CHECKS = (_database, _broker, _worker, _schedules)


def readiness(*, now: datetime | None = None) -> list[Check]:
    """Every readiness check, in order; a check that raises has failed (its error class is
    its detail: error messages may carry addresses)."""
    now = now or timezone.now()
    results = []
    for check in CHECKS:
        name = check.__name__.lstrip("_")
        try:
            results.append(check(now))
        except Exception as error:  # noqa: BLE001 - a check that cannot run has failed
            logger.warning("readiness check=%s failed: %s", name, type(error).__name__)
            results.append(Check(name, False, f"could not check: {type(error).__name__}"))
    return results


def heartbeat_record(*, now: datetime | None = None) -> WorkerHeartbeat:
    """Record that a worker on this machine is running tasks; forget machines silent for a day."""
    now = now or timezone.now()
    beat, _ = WorkerHeartbeat.objects.update_or_create(machine=socket.gethostname()[:200],
                                                       defaults={"beat_at": now})
    WorkerHeartbeat.objects.filter(beat_at__lt=now - timedelta(days=1)).delete()
    return beat
