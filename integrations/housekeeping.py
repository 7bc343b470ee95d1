"""What Gatehouse forgets, once a day (the "gatehouse:housekeeping" schedule).

Rows that only grow and stop mattering: webhook events processed more than
RECORDS_KEEP_DAYS ago, and never sooner than the webhook freshness tolerance
(WEBHOOK_MAX_AGE_HOURS: until then a replay must still find its dedupe record; after
it, the freshness check refuses the replay), finished sync runs older than
RECORDS_KEEP_DAYS (each sync keeps its latest successful run, so "last sync" stays
known), login counters that no longer count, member app tokens a day past their
expiry, and the admin login's django-axes records (failed attempts past their cool-off,
login log entries older than RECORDS_KEEP_DAYS), and deliveries sent more than
RECORDS_KEEP_DAYS ago. Failed webhook events and deliveries, open issues and club
records are never purged here.
"""

from datetime import timedelta

from axes.models import AccessAttempt, AccessLog
from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from clients.lockout import login_counters_purge
from clients.tokens import member_tokens_purge
from integrations.models import Delivery, SyncRun, WebhookEvent
from integrations.webhooks import webhook_dedupe_keep

SCHEDULE_NAME = "gatehouse:housekeeping"


def webhook_events_purge(*, before) -> int:
    deleted, _ = WebhookEvent.objects.filter(status=WebhookEvent.Status.PROCESSED, received_at__lt=before).delete()
    return deleted


def sync_runs_purge(*, before) -> int:
    keep = (SyncRun.objects.filter(status=SyncRun.Status.SUCCEEDED).values("integration_id", "sync_name")
            .annotate(last=Max("pk")).values_list("last", flat=True))
    deleted, _ = (SyncRun.objects.filter(started_at__lt=before).exclude(status=SyncRun.Status.RUNNING)
                  .exclude(pk__in=keep).delete())
    return deleted


def deliveries_purge(*, before) -> int:
    """Deliveries sent before `before`, with their attempts; failed ones stay for staff to see."""
    deleted, _ = Delivery.objects.filter(state=Delivery.State.SENT, sent_at__lt=before).delete()
    return deleted


def admin_login_records_purge(*, now, before) -> int:
    """Drop axes' failed attempts past their cool-off and its login log entries from before `before`."""
    attempts, _ = AccessAttempt.objects.filter(attempt_time__lt=now - settings.AXES_COOLOFF_TIME).delete()
    logs, _ = AccessLog.objects.filter(attempt_time__lt=before).delete()
    return attempts + logs


def records_purge(*, now=None) -> dict[str, int]:
    """Purge everything above; returns how many rows of each kind went."""
    now = now or timezone.now()
    before = now - timedelta(days=settings.RECORDS_KEEP_DAYS)
    return {
        "webhook events": webhook_events_purge(before=min(before, now - webhook_dedupe_keep())),
        "sync runs": sync_runs_purge(before=before),
        "deliveries": deliveries_purge(before=before),
        "login counters": login_counters_purge(now=now),
        "member tokens": member_tokens_purge(now=now),
        "admin login records": admin_login_records_purge(now=now, before=before),
    }
