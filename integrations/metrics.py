"""What /metrics shows Prometheus, read from the database at scrape time.

A custom collector, so every web process answers the same figures whichever served the
scrape (no per-process counters to merge). Counters (`_total`) come from rows nothing
deletes (member logins from OutcomeCount, door decisions from the access log); figures
over sync runs, which housekeeping deletes after RECORDS_KEEP_DAYS, are gauges over the
last 24 hours, so a purge never looks like a counter reset.
"""

from collections import defaultdict
from datetime import timedelta

from django.db.models import Count, DurationField, ExpressionWrapper, F, Max, Sum
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from accessctl.models import UnlockAttempt
from integrations.health import readiness
from integrations.models import (
    Alert,
    Delivery,
    Integration,
    OutcomeCount,
    SyncIssue,
    SyncRun,
    WebhookEvent,
)

LABELS = ["integration", "kind"]
LOGIN_OUTCOMES = ("ok", "failed", "locked", "unavailable")  # integrations.logins
SYNC_LABELS = ["integration", "kind", "sync"]


def _gauge(name: str, doc: str, labels: list[str]) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"gatehouse_{name}", doc, labels=labels)


class GatehouseCollector:
    """Integrations, syncs, outbox, webhooks, logins, door decisions, readiness, alerts."""

    def collect(self):
        now = timezone.now()
        integrations = {i.pk: (i.name, i.kind) for i in Integration.objects.all()}
        yield from self._integrations(integrations, now)
        yield from self._syncs(integrations, now)
        yield from self._queues(integrations)
        yield from self._outcomes()
        yield from self._service(now)

    def _integrations(self, integrations, now):
        active = _gauge("integration_active", "1 while the integration is active, 0 while paused.", LABELS)
        for integration in Integration.objects.all():
            active.add_metric([integration.name, integration.kind], int(integration.is_active))
        issues = _gauge("sync_issues_open", "Vendor records a sync could not use, still open.", LABELS)
        open_issues = dict(SyncIssue.objects.filter(resolved_at__isnull=True).values_list("integration_id")
                           .annotate(n=Count("id")))
        for pk, labels in integrations.items():
            issues.add_metric(list(labels), open_issues.get(pk, 0))
        yield active
        yield issues

    def _syncs(self, integrations, now):
        last = {(r["integration_id"], r["sync_name"]): r["at"] for r in SyncRun.objects.filter(
            status=SyncRun.Status.SUCCEEDED).values("integration_id", "sync_name").annotate(at=Max("finished_at"))}
        lag = _gauge("integration_lag_seconds", "Age of the oldest of its syncs' last successes: how far "
                     "the integration's picture of the vendor may be behind.", LABELS)
        age = _gauge("sync_last_success_age_seconds", "Seconds since the sync last succeeded.", SYNC_LABELS)
        by_integration = defaultdict(list)
        for (pk, sync_name), at in last.items():
            if pk in integrations and at is not None:
                seconds = (now - at).total_seconds()
                by_integration[pk].append(seconds)
                age.add_metric([*integrations[pk], sync_name], seconds)
        for pk, ages in by_integration.items():
            lag.add_metric(list(integrations[pk]), max(ages))
        yield lag
        yield age
        yield from self._recent_runs(integrations, now)

    def _recent_runs(self, integrations, now):
        since = now - timedelta(hours=24)
        runs = _gauge("sync_runs_24h", "Sync runs started in the last 24 hours, by how they ended.",
                      [*SYNC_LABELS, "status"])
        written = _gauge("sync_records_written_24h", "Records created or updated by syncs in the last 24 hours.",
                         SYNC_LABELS)
        failed = _gauge("sync_records_failed_24h", "Records syncs could not use in the last 24 hours.", SYNC_LABELS)
        duration = _gauge("sync_run_duration_seconds", "How long the sync's last finished run took.", SYNC_LABELS)
        longest = _gauge("sync_run_duration_max_24h_seconds", "The longest run of the sync in the last 24 hours.",
                         SYNC_LABELS)
        recent = SyncRun.objects.filter(started_at__gte=since)
        for row in recent.values("integration_id", "sync_name", "status").annotate(n=Count("id")):
            if row["integration_id"] in integrations:
                runs.add_metric([*integrations[row["integration_id"]], row["sync_name"], row["status"]], row["n"])
        for row in recent.values("integration_id", "sync_name").annotate(
                written=Sum("created") + Sum("updated"), failed=Sum("failed")):
            if row["integration_id"] in integrations:
                labels = [*integrations[row["integration_id"]], row["sync_name"]]
                written.add_metric(labels, row["written"] or 0)
                failed.add_metric(labels, row["failed"] or 0)
        # Aggregated in the database, then one indexed look-up per sync for its last run.
        finished = recent.filter(finished_at__isnull=False)
        took = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
        for row in finished.values("integration_id", "sync_name").annotate(longest=Max(took)):
            pk, sync_name = row["integration_id"], row["sync_name"]
            if pk not in integrations:
                continue
            started, ended = (finished.filter(integration_id=pk, sync_name=sync_name).order_by("-started_at")
                              .values_list("started_at", "finished_at").first())
            duration.add_metric([*integrations[pk], sync_name], (ended - started).total_seconds())
            longest.add_metric([*integrations[pk], sync_name], row["longest"].total_seconds())
        yield from (runs, written, failed, duration, longest)

    def _queues(self, integrations):
        deliveries = _gauge("deliveries", "Deliveries to vendors by state (pending, sending, failed = retrying, "
                            "gave_up, sent).", [*LABELS, "state"])
        counted = {(pk, state): n for pk, state, n in
                   Delivery.objects.values_list("integration_id", "state").annotate(n=Count("id"))}
        for pk in sorted({pk for pk, _ in counted} & set(integrations)):
            for state in Delivery.State.values:  # every state, 0 included, so a rule needs no absent()
                deliveries.add_metric([*integrations[pk], state], counted.get((pk, state), 0))
        webhooks = _gauge("webhook_events_queued", "Webhook events received and not processed yet.", LABELS)
        queued = dict(WebhookEvent.objects.filter(status=WebhookEvent.Status.RECEIVED)
                      .values_list("integration_id").annotate(n=Count("id")))
        for pk, labels in integrations.items():
            webhooks.add_metric(list(labels), queued.get(pk, 0))
        yield deliveries
        yield webhooks

    def _outcomes(self):
        logins = CounterMetricFamily("gatehouse_member_logins", "Member app logins by outcome (ok, failed, "
                                     "locked, unavailable); token logins as via=token.", labels=["outcome", "via"])
        counted = {(o, "password"): 0 for o in LOGIN_OUTCOMES} | {(o, "token"): 0 for o in ("ok", "failed")}
        for event, outcome, count in OutcomeCount.objects.filter(
                event__in=["member_login", "member_token_login"]).values_list("event", "outcome", "count"):
            counted[(outcome, "token" if event == "member_token_login" else "password")] = count
        for (outcome, via), count in counted.items():
            logins.add_metric([outcome, via], count)
        doors = CounterMetricFamily("gatehouse_door_decisions", "Unlocks members asked for, by outcome "
                                    "(opened, refused, failed = the door did not open, pending).", labels=["outcome"])
        decided = {**dict.fromkeys(UnlockAttempt.Outcome.values, 0),
                   **dict(UnlockAttempt.objects.values_list("outcome").annotate(n=Count("id")))}
        for outcome, count in decided.items():
            doors.add_metric([outcome], count)
        yield logins
        yield doors

    def _service(self, now):
        ready = _gauge("readiness", "1 while the readiness check (as /readyz) passes.", ["check"])
        for check in readiness(now=now):
            ready.add_metric([check.name], int(check.ok))
        alerts = _gauge("alerts_open", "Alerts open (e-mailed, not recovered yet), by kind.", ["kind"])
        counts = dict(Alert.objects.filter(active=True).values_list("kind").annotate(n=Count("id")))
        for kind in Alert.Kind.values:
            alerts.add_metric([kind], counts.get(kind, 0))
        yield ready
        yield alerts


def metrics_exposition() -> tuple[bytes, str]:
    """The scrape's body and content type."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(GatehouseCollector())
    return generate_latest(registry), CONTENT_TYPE_LATEST

