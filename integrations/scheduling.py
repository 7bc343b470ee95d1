"""django-q2 schedules derived from an integration's settings, by name, idempotently."""

from django.utils import timezone
from django_q.models import Schedule

from integrations.connectors import connector_for

SYNC_TASK = "integrations.tasks.sync_task"
AUDIT_TASK = "integrations.tasks.audit_task"


def schedule_name(integration_id: int, job: str) -> str:
    return f"integration:{integration_id}:{job}"


def schedules_sync(*, integration) -> list[Schedule]:
    """Create or update the integration's schedules; pause them when it is inactive.

    A sync switched off in the settings loses its schedule; a paused schedule keeps
    its row with `repeats=0`, which django-q2 never runs.
    """
    connector = connector_for(integration)
    wanted: dict[str, tuple[str, int, str]] = {}
    for spec in connector.syncs:
        minutes = connector.sync_interval(spec) if spec.scheduled else None
        if minutes:
            wanted[schedule_name(integration.pk, spec.name)] = (SYNC_TASK, minutes, spec.name)
    if connector.audit_minutes:
        wanted[schedule_name(integration.pk, "audit")] = (AUDIT_TASK, connector.audit_minutes, "audit")
    prefix = schedule_name(integration.pk, "")
    Schedule.objects.filter(name__startswith=prefix).exclude(name__in=wanted).delete()
    schedules = []
    for name, (func, minutes, job) in wanted.items():
        schedule, created = Schedule.objects.get_or_create(
            name=name,
            defaults={
                "func": func,
                "args": repr((integration.pk, job) if func == SYNC_TASK else (integration.pk,)),
                "schedule_type": Schedule.MINUTES, "minutes": minutes,
                "repeats": -1 if integration.is_active else 0, "next_run": timezone.now(),
            },
        )
        if not created:
            was_paused = schedule.repeats == 0
            schedule.minutes = minutes
            schedule.repeats = -1 if integration.is_active else 0
            if was_paused and integration.is_active:
                schedule.next_run = timezone.now()
            schedule.save(update_fields=["minutes", "repeats", "next_run"])
        schedules.append(schedule)
    return schedules


def schedules_delete(*, integration_id: int) -> int:
    """Remove every schedule of a deleted integration."""
    deleted, _ = Schedule.objects.filter(name__startswith=schedule_name(integration_id, "")).delete()
    return deleted


def schedule_next_run(*, integration_id: int):
    """When the integration's next scheduled job runs (None if nothing is scheduled)."""
    return (
        Schedule.objects.filter(name__startswith=schedule_name(integration_id, ""))
        .exclude(repeats=0)
        .order_by("next_run")
        .values_list("next_run", flat=True)
        .first()
    )


def schedule_next_runs(*, integration_id: int) -> dict[str, object]:
    """{sync name: when it next runs} of the integration's active schedules."""
    prefix = schedule_name(integration_id, "")
    return {name.removeprefix(prefix): next_run for name, next_run in
            Schedule.objects.filter(name__startswith=prefix).exclude(repeats=0).values_list("name", "next_run")}
