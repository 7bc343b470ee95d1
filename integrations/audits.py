"""Running a connector's audit (e.g. Gladstone's daily SubTypeID check) as a kept run."""

from django.utils import timezone

from integrations.connectors import connector_for
from integrations.errors import VendorError
from integrations.models import Integration, SyncRun


def audit_run(*, integration: Integration, trigger: str = SyncRun.Trigger.SCHEDULE) -> SyncRun:
    """Run the integration's audit; the result is kept as a SyncRun named "audit"."""
    run = SyncRun.objects.create(integration=integration, sync_name="audit", trigger=trigger)
    try:
        connector_for(integration).audit(run)
        run.status = SyncRun.Status.SUCCEEDED
    except VendorError as error:
        run.status, run.error = SyncRun.Status.FAILED, f"{type(error).__name__}: {error}"
    run.finished_at = timezone.now()
    run.save()
    return run
