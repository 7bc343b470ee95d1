"""What the integration's admin page tells: per sync its last run with changes (when, how
long, counts, its report in full), the quiet runs since folded into one line, the next run;
open issues by reason; the records waiting for something; the cause of a failure; the
webhook address to paste into the vendor."""

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode

from django.db.models import Count, Max, Min, Q
from django.urls import reverse
from django.utils import timezone

from integrations.attention import PendingGroup, failure_cause, pending_attention
from integrations.connectors import Connector, SyncSpec, connector_class
from integrations.crypto import SECRETS_UNREADABLE
from integrations.models import Integration, SyncIssue, SyncRun
from integrations.scheduling import schedule_next_runs

# A run that found nothing to write and changed nothing: folded into one line.
QUIET = Q(status=SyncRun.Status.SUCCEEDED, created=0, updated=0, skipped=0, failed=0, report="")


@dataclass
class QuietRuns:
    count: int = 0
    since: datetime | None = None
    latest: datetime | None = None


@dataclass
class SyncStory:
    spec: SyncSpec
    last: SyncRun | None  # the latest run that did something (or failed)
    quiet: QuietRuns  # the runs since `last` that found nothing
    next_run: datetime | None
    interval: int | None  # minutes; None: not scheduled

    @property
    def next_run_due(self) -> bool:
        return self.next_run is not None and self.next_run <= timezone.now()


@dataclass
class IssueGroup:
    reason: str
    count: int
    url: str


@dataclass
class IntegrationStory:
    syncs: list[SyncStory]
    cause: str  # why it fails, in one line with what to do ("" when it does not)
    issues: list[IssueGroup] = field(default_factory=list)
    pending: list[PendingGroup] = field(default_factory=list)
    webhook_url: str = ""
    vendor: str = ""  # the connector's label, for the webhook address's instructions
    webhook_secret_address: bool = False  # the address carries a secret token (a vendor that cannot sign)


def quiet_runs(runs) -> QuietRuns:
    """How many of `runs` (a SyncRun queryset) found nothing, since when (one query)."""
    found = runs.filter(QUIET).aggregate(n=Count("id"), since=Min("started_at"), latest=Max("started_at"))
    return QuietRuns(found["n"], found["since"], found["latest"])


def webhook_path(integration: Integration) -> str:
    """The path of the integration's webhook address (absolute with the site's host).

    For a vendor that cannot sign (Connector.webhook_token_secret) it carries the secret
    token: show it only where the manager copies it. "" while that token cannot be read.
    """
    kwargs = {"kind": integration.kind, "integration_id": integration.pk}
    token_name = connector_class(integration.kind).webhook_token_secret
    if not token_name:
        return reverse("webhook", kwargs=kwargs)
    token = integration.stored_secrets().values.get(token_name, "")
    return reverse("webhook-token", kwargs={**kwargs, "token": token}) if token else ""


def takes_webhooks(connector: type[Connector] | Connector) -> bool:
    """Whether the vendor sends webhooks to Gatehouse (its connector reads their events)."""
    cls = connector if isinstance(connector, type) else type(connector)
    return cls.webhook_event is not Connector.webhook_event


def integration_story(*, integration: Integration, connector: Connector, site: str = "") -> IntegrationStory:
    """Everything the integration page shows about its runs; `site` is the scheme and host
    (e.g. "https://gym.example") that makes the webhook address absolute."""
    next_runs = schedule_next_runs(integration_id=integration.pk)
    runs = SyncRun.objects.filter(integration=integration)
    syncs, failed_errors = [], []
    for spec in connector.syncs:
        mine = runs.filter(sync_name=spec.name)
        last = mine.exclude(QUIET).exclude(status=SyncRun.Status.RUNNING).first()
        running = mine.filter(status=SyncRun.Status.RUNNING).first()
        latest = mine.first()
        if latest is not None and latest.status == SyncRun.Status.FAILED:
            failed_errors.append(latest.error)
        syncs.append(SyncStory(
            spec=spec, last=running or last,
            quiet=quiet_runs(mine.filter(started_at__gt=last.started_at) if last else mine),
            next_run=next_runs.get(spec.name),
            interval=connector.sync_interval(spec) if spec.scheduled else None,
        ))
    issues_url = reverse("admin:integrations_syncissue_changelist")
    issues = [IssueGroup(row["reason"], row["n"], issues_url + "?" + urlencode(
        {"integration__id__exact": integration.pk, "resolved": "no", "reason": row["reason"]}))
        for row in SyncIssue.objects.filter(integration=integration, resolved_at__isnull=True)
        .values("reason").annotate(n=Count("id")).order_by("-n")[:20]]
    cause = "" if integration.secrets_readable else SECRETS_UNREADABLE[0].upper() + SECRETS_UNREADABLE[1:] + "."
    cause = cause or next((failure_cause(error) for error in failed_errors if error), "")
    return IntegrationStory(
        syncs=syncs, cause=cause, issues=issues, pending=pending_attention(integration_id=integration.pk),
        webhook_url=f"{site}{path}" if takes_webhooks(connector) and (path := webhook_path(integration)) else "",
        vendor=connector.label, webhook_secret_address=bool(connector.webhook_token_secret),
    )
