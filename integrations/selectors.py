"""Reads about integrations that need thought: health at a glance, open sync issues, source names,
which integration a record came from, and what was sent to vendors (the outbox)."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import CharField, Count, Max, Prefetch, Q, Sum, Value
from django.db.models.functions import Cast, Concat, TruncDate
from django.utils import timezone

from accessctl.models import Door
from integrations.attention import PendingGroup, failure_cause, pending_attention
from integrations.connectors import connector_classes
from integrations.crypto import SECRETS_UNREADABLE
from integrations.models import Delivery, DeliveryAttempt, Integration, SyncIssue, SyncRun
from integrations.scheduling import schedule_next_run


@dataclass
class DayBar:
    day: date
    synced: int = 0
    failed: int = 0


@dataclass
class IntegrationHealth:
    integration: Integration
    label: str
    status: str  # healthy, failing, paused, never run
    last_success: datetime | None
    lag: timedelta | None  # how old the freshest complete picture of the vendor is
    next_run: datetime | None
    errors_24h: int
    open_issues: int
    days: list[DayBar] = field(default_factory=list)
    offline_locks: list[str] = field(default_factory=list)  # titles of its doors whose lock is offline
    why: str = ""  # what stops it working and what to do, when something does (attention.failure_cause)
    waiting: int = 0  # records a sync read but could not place yet (integrations.pending)

    @property
    def attention(self) -> int:
        """Open issues and waiting records: what the sync-issues page lists for it."""
        return self.open_issues + self.waiting

    @property
    def lag_display(self) -> str:
        if self.lag is None:
            return "unknown"
        minutes = int(self.lag.total_seconds() // 60)
        if minutes < 1:
            return "under a minute"
        if minutes < 120:
            return f"{minutes} min"
        if minutes < 48 * 60:
            return f"{minutes // 60} h {minutes % 60} min"
        return f"{minutes // (24 * 60)} days"


def integrations_health(*, now: datetime | None = None) -> list[IntegrationHealth]:
    """One health summary per integration, with seven days of synced and failed records."""
    now = now or timezone.now()
    since_24h, since_7d = now - timedelta(hours=24), (now - timedelta(days=6)).date()
    labels = {kind: cls.label for kind, cls in connector_classes().items()}
    integrations = list(Integration.objects.annotate(
        open_issues=Count("issues", filter=Q(issues__resolved_at__isnull=True), distinct=True),
        waiting=Count("pending_records", filter=Q(pending_records__client__deleted_at__isnull=True), distinct=True),
    ))
    latest: dict[tuple[int, str], SyncRun] = {}
    for run in SyncRun.objects.filter(started_at__gte=now - timedelta(days=7)).order_by("started_at"):
        latest[(run.integration_id, run.sync_name)] = run
    last_success = {
        (row["integration_id"], row["sync_name"]): row["started"]
        for row in SyncRun.objects.filter(status=SyncRun.Status.SUCCEEDED)
        .values("integration_id", "sync_name").annotate(started=Max("started_at"))
    }
    errors = dict(
        SyncRun.objects.filter(started_at__gte=since_24h, status=SyncRun.Status.FAILED)
        .values_list("integration_id").annotate(n=Count("id"))
    )
    new_issues = dict(
        SyncIssue.objects.filter(last_seen_at__gte=since_24h).values_list("integration_id")
        .annotate(n=Count("id"))
    )
    series: dict[int, dict[date, DayBar]] = {}
    for row in (SyncRun.objects.filter(started_at__date__gte=since_7d)
                .annotate(day=TruncDate("started_at")).values("integration_id", "day")
                .annotate(synced=Sum("created") + Sum("updated"), failed=Sum("failed"),
                          failed_runs=Count("id", filter=Q(status=SyncRun.Status.FAILED)))):
        series.setdefault(row["integration_id"], {})[row["day"]] = DayBar(
            row["day"], row["synced"] or 0, (row["failed"] or 0) + row["failed_runs"])
    offline = offline_locks_by_system()
    health = []
    for integration in integrations:
        runs = [run for (pk, _), run in latest.items() if pk == integration.pk]
        successes = [t for (pk, _), t in last_success.items() if pk == integration.pk]
        why = "" if integration.secrets_readable else SECRETS_UNREADABLE
        failed = [run for run in runs if run.status == SyncRun.Status.FAILED]
        if not integration.is_active:
            status = "paused"
        elif why:
            status = "failing"
        elif not runs and not successes:
            status = "never run"
        elif failed:
            status, why = "failing", failure_cause(max(failed, key=lambda run: run.started_at).error)
        else:
            status = "healthy"
        days = series.get(integration.pk, {})
        health.append(IntegrationHealth(
            integration=integration, label=labels.get(integration.kind, integration.kind), status=status,
            last_success=max(successes) if successes else None,
            lag=now - min(successes) if successes else None,
            next_run=schedule_next_run(integration_id=integration.pk),
            errors_24h=errors.get(integration.pk, 0) + new_issues.get(integration.pk, 0),
            open_issues=integration.open_issues,
            waiting=integration.waiting,
            days=[days.get(since_7d + timedelta(days=n), DayBar(since_7d + timedelta(days=n)))
                  for n in range(7)],
            offline_locks=offline.get(integration.kind, []),
            why=why,
        ))
    return health


def offline_locks_by_system() -> dict[str, list[str]]:
    """Active doors whose lock the door system last reported offline: {access control: titles}."""
    offline = defaultdict(list)
    for system, title in Door.objects.filter(is_active=True, lock_online=False).exclude(
            access_control=Door.AccessControl.DISABLED).values_list("access_control", "title"):
        offline[system].append(title)
    return offline


def integration_source_names() -> dict[str, str]:
    """{record source: integration name} of every integration (records say where they came from)."""
    return {integration.source: integration.name for integration in Integration.objects.all()}


def sync_issues_open_by_reason(*, integration_id: int | None = None, reasons: int = 50,
                               per_reason: int = 500) -> list[tuple[str, int, list[SyncIssue]]]:
    """Open sync issues grouped by reason, most frequent first: (reason, count, issues).

    At most `reasons` groups, and `per_reason` issues across them, each with its integration.
    """
    issues = SyncIssue.objects.filter(resolved_at__isnull=True).select_related("integration")
    if integration_id:
        issues = issues.filter(integration_id=integration_id)
    groups = issues.values("reason").annotate(n=Count("id")).order_by("-n")[:reasons]
    by_reason = {g["reason"]: [] for g in groups}
    for issue in issues.filter(reason__in=list(by_reason))[:per_reason]:
        by_reason[issue.reason].append(issue)
    return [(g["reason"], g["n"], by_reason[g["reason"]]) for g in groups]


def member_sync_integration(client) -> Integration | None:
    """The active integration a client came from, when its vendor can sync one member
    ("Sync this member now"); None otherwise."""
    integration = integration_for_source(client.source)
    if integration is None or not integration.is_active or not client.external_id:
        return None
    try:
        return integration if connector_classes()[integration.kind].offers_client_sync else None
    except KeyError:
        return None


def integration_for_source(source: str, *, integration_id: int | None = None) -> Integration | None:
    """The integration a record came from, in one query; None for Gatehouse's own records
    and for an integration that is gone.

    A door access names it by its foreign key (`integration_id`), which wins; a client (or an
    older row) by its `source` key, matched whole against `Integration.source` in the
    database, never parsed, so "kisi-12" is never taken for "kisi-2" or for another kind's 12.
    """
    if integration_id is not None:
        return Integration.objects.filter(pk=integration_id).first()
    # Integration.source is f"{kind}-{pk}"; the same key built in SQL.
    key = Concat("kind", Value("-"), Cast("pk", CharField()), output_field=CharField())
    return Integration.objects.annotate(source_key=key).filter(source_key=source).first()


def deliveries_for_staff(*, integration_id: int | None = None, state: str = "", kind: str = "",
                         client_id: int | None = None, record_id: int | None = None, member: str = ""):
    """Deliveries newest first, filtered, each with its client, integration and attempts."""
    found = Delivery.objects.select_related("integration", "client").prefetch_related(
        Prefetch("attempt_log", queryset=DeliveryAttempt.objects.order_by("started_at", "id")))
    if integration_id is not None:
        found = found.filter(integration_id=integration_id)
    if state:
        found = found.filter(state=state)
    if kind:
        found = found.filter(kind=kind)
    if client_id is not None:
        found = found.filter(client_id=client_id)
    if record_id is not None:
        found = found.filter(record_id=record_id)
    if member:
        found = found.filter(Q(client__first_name__icontains=member) | Q(client__last_name__icontains=member)
                             | Q(client__email__icontains=member) | Q(client__external_id=member))
    return found.order_by("-created_at", "-id")


def attention_pending(*, integration_id: int | None = None) -> list[PendingGroup]:
    """Records waiting for a package, tier or location, grouped with their fix (staff reads here)."""
    return pending_attention(integration_id=integration_id)

