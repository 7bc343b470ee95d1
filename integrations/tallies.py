"""Counters kept in the database (OutcomeCount), shared by every process, read by /metrics."""

from django.db import IntegrityError, transaction
from django.db.models import F

from integrations.models import OutcomeCount


def outcome_count(*, event: str, outcome: str) -> None:
    """Add one to how often `event` ended with `outcome` (e.g. member_login, ok)."""
    if OutcomeCount.objects.filter(event=event, outcome=outcome).update(count=F("count") + 1):
        return
    try:
        with transaction.atomic():
            OutcomeCount.objects.create(event=event, outcome=outcome, count=1)
    except IntegrityError:  # another process created it first
        OutcomeCount.objects.filter(event=event, outcome=outcome).update(count=F("count") + 1)
