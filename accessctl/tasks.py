"""Task entry points for django-q2 (thin: call a service, return a summary)."""

from django.utils import timezone

from accessctl.sequences import sequences_run, sequences_schedule_sync


def sequences_task() -> str:
    """Every minute: apply the booking sequences' due tag additions and removals."""
    result = sequences_run(now=timezone.now())
    sequences_schedule_sync()  # pause itself once no sequence has work left
    return result.summary()
