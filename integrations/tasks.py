"""Task entry points for django-q2. Thin: look up, call a service, return a summary."""

import logging
import time
from datetime import datetime

from django.utils import timezone

from config.logs import log_context
from integrations.alerts import alerts_check, integration_alerts_check
from integrations.audits import audit_run
from integrations.connectors import connector_for
from integrations.health import heartbeat_record
from integrations.housekeeping import records_purge
from integrations.models import Integration, SyncIssue, SyncRun, WebhookEvent
from integrations.polling import poll_run
from integrations.services import sync_issue_retry
from integrations.sync import SyncAlreadyRunning, sync_run
from integrations.wakes import sync_wake_done

logger = logging.getLogger("gatehouse.tasks")
# A run woken for named records (an access change's clients, a webhook's member) that finds
# its sync busy waits this long for it instead of being dropped: the busy run may have read
# those records before they changed. A scheduled run is simply skipped (the next one comes).
BUSY_WAIT_SECONDS = 20
BUSY_POLL_SECONDS = 0.5
WOKEN = (SyncRun.Trigger.ACCESS, SyncRun.Trigger.WEBHOOK)
_pause = time.sleep  # the wait between tries (a test takes its turn here)


def sync_task(integration_id: int, sync_name: str, trigger: str = SyncRun.Trigger.SCHEDULE,
              options: dict | None = None) -> str:
    """Run one sync; skipped quietly when the integration is inactive, or when it is already
    running (a woken run first waits up to BUSY_WAIT_SECONDS for the busy one to end)."""
    integration = Integration.objects.filter(pk=integration_id).first()
    if integration is None or not integration.is_active:
        return "skipped: integration missing or inactive"
    deadline = time.monotonic() + (BUSY_WAIT_SECONDS if trigger in WOKEN else 0)
    with log_context(integration=integration_id, sync=sync_name):
        while True:
            try:
                run = sync_run(integration=integration, sync_name=sync_name, trigger=trigger, options=options)
                break
            except SyncAlreadyRunning as error:
                if time.monotonic() >= deadline:
                    if trigger in (SyncRun.Trigger.WEBHOOK, SyncRun.Trigger.POLL):  # the next wake queues again
                        sync_wake_done(integration_id=integration_id, sync_name=sync_name)
                    return f"skipped: {error}"
                _pause(BUSY_POLL_SECONDS)
        integration_alerts_check(integration=integration)
    return run.summary()


def initial_sync_task(integration_id: int, options: dict) -> str:
    """Run the connector's initial syncs one after another (members before packages)."""
    integration = Integration.objects.filter(pk=integration_id, is_active=True).first()
    if integration is None:
        return "skipped: integration missing or inactive"
    summaries = []
    for sync_name in connector_for(integration).initial_sync_names():
        try:
            with log_context(integration=integration_id, sync=sync_name):
                run = sync_run(integration=integration, sync_name=sync_name, trigger=SyncRun.Trigger.INITIAL,
                               options={**options, "initial": True})
        except SyncAlreadyRunning as error:
            summaries.append(f"skipped: {error}")
            continue
        summaries.append(run.summary())
        if run.status != SyncRun.Status.SUCCEEDED:
            break
    integration_alerts_check(integration=integration)
    return "; ".join(summaries)


def client_sync_task(integration_id: int, external_id: str) -> str:
    """Sync one member now (the staff client page's button)."""
    integration = Integration.objects.filter(pk=integration_id, is_active=True).first()
    if integration is None:
        return "skipped: integration missing or inactive"
    connector_for(integration).client_sync(external_id)
    return f"synced member {external_id}"


def sync_issue_retry_task(issue_id: int, user: str = "") -> str:
    """Retry one sync issue (the staff page's "Retry")."""
    issue = SyncIssue.objects.select_related("integration").get(pk=issue_id)
    return "resolved" if sync_issue_retry(issue=issue, user=user) else "still open"


def audit_task(integration_id: int) -> str:
    integration = Integration.objects.filter(pk=integration_id, is_active=True).first()
    if integration is None:
        return "skipped: integration missing or inactive"
    with log_context(integration=integration_id, sync="audit"):
        run = audit_run(integration=integration)
        integration_alerts_check(integration=integration)
    return run.summary()


def webhook_task(event_pk: int | None = None, *, integration_id: int | None = None, event_id: str = "") -> str:
    """Process a stored webhook event through its connector: named by its integration and the
    vendor's event id (integrations.webhooks queues it before the row has a pk), or by its pk."""
    events = WebhookEvent.objects.select_related("integration")
    event = (events.get(pk=event_pk) if event_pk is not None
             else events.get(integration_id=integration_id, event_id=event_id))
    if event.status == WebhookEvent.Status.PROCESSED:
        return "already processed"
    try:
        connector_for(event.integration).webhook_process(event)
    except Exception as error:
        WebhookEvent.objects.filter(pk=event.pk).update(
            status=WebhookEvent.Status.FAILED, error=f"{type(error).__name__}: {error}"[:2000]
        )
        raise
    WebhookEvent.objects.filter(pk=event.pk).update(
        status=WebhookEvent.Status.PROCESSED, processed_at=timezone.now(), error=""
    )
    return "processed"


def housekeeping_task() -> str:
    """The daily purge of rows that stopped mattering (integrations.housekeeping)."""
    purged = records_purge()
    return "purged " + ", ".join(f"{n} {kind}" for kind, n in purged.items())


def heartbeat_task() -> str:
    """Every minute: this machine's worker runs tasks (readiness, integrations.health)."""
    beat = heartbeat_record()
    return f"heartbeat {beat.machine}"


def alerts_task() -> str:
    """Every minute: open or close the alerts (integrations.alerts); lag and readiness need a clock.

    A worker running this is alive: it beats first, so it never reports its own machine missing."""
    heartbeat_record()
    return f"{alerts_check()} alert(s) changed"


def poll_task(intended: str | None = None, handover: str | None = None) -> str:
    """Every minute: look for vendor changes every few seconds until the next poller starts
    (integrations.polling); gives its worker back whenever other tasks wait for one.

    `intended` is the time the schedule ran it for; `handover` carries a continued poller's end."""
    return poll_run(intended=intended, handover=datetime.fromisoformat(handover) if handover else None)
