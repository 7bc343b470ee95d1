"""Alerts: tell people once when something breaks, and once when it heals.

Conditions, each kept as one Alert row:
- an integration whose sync failed `alert_after_failures` runs in a row (default
  settings.ALERT_AFTER_FAILURES);
- an integration with a scheduled sync whose last success is older than its interval plus
  `alert_lag_minutes` (default settings.ALERT_LAG_MINUTES; 0 switches it off);
- an integration with deliveries the outbox gave up;
- the service not ready (integrations.health), for settings.ALERT_EMAILS.

An integration's e-mails go to its "Notification e-mails" setting, else
settings.ALERT_EMAILS. The checks run after every sync task and every minute
(integrations.tasks.alerts_task). An alert opens or closes with one conditional UPDATE in
the transaction that sends its e-mail: two workers never both send, and a send that fails
rolls the change back so the next check tries again.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from integrations.attention import failure_cause
from integrations.connectors import connector_for
from integrations.health import readiness
from integrations.models import Alert, Delivery, Integration, SyncRun

logger = logging.getLogger("gatehouse.alerts")
FINISHED = (SyncRun.Status.SUCCEEDED, SyncRun.Status.FAILED)


@dataclass(frozen=True)
class Condition:
    """Whether one alert's condition holds now, and what to say when it starts or ends."""

    key: str
    kind: str
    active: bool
    subject: str
    body: str = ""
    integration: Integration | None = None
    recipients: tuple[str, ...] = ()


def alert_set(*, condition: Condition, now: datetime | None = None) -> bool:
    """Open or close the condition's alert; e-mail its recipients when this call changed it.

    Returns whether it changed (and so whether an e-mail went out, when there are recipients).
    """
    now = now or timezone.now()
    if condition.active:
        alert, _ = Alert.objects.get_or_create(key=condition.key, defaults={
            "kind": condition.kind, "integration": condition.integration})
    elif (alert := Alert.objects.filter(key=condition.key, active=True).first()) is None:
        return False  # nothing was open: nothing to close
    with transaction.atomic():
        if condition.active:
            changed = Alert.objects.filter(pk=alert.pk, active=False).update(
                active=True, opened_at=now, closed_at=None, detail=condition.body)
            subject, body = condition.subject, condition.body
        else:
            changed = Alert.objects.filter(pk=alert.pk, active=True).update(active=False, closed_at=now)
            subject = f"Recovered: {condition.subject}"
            body = (f"{condition.body}\n\nThe alert sent at {alert.opened_at:%Y-%m-%d %H:%M} UTC is over."
                    if alert.opened_at else condition.body)
        if not changed:
            return False
        if condition.recipients:
            send_mail(f"[Gatehouse] {subject}", body, settings.DEFAULT_FROM_EMAIL, list(condition.recipients))
    logger.warning("alert=%s %s recipients=%d", condition.key, "opened" if condition.active else "closed",
                   len(condition.recipients))
    return True


def _recipients(integration: Integration) -> tuple[str, ...]:
    own = (integration.settings or {}).get("notification_emails") or []
    if isinstance(own, str):  # settings written by hand, not through the form
        own = [item.strip() for item in own.split(",") if item.strip()]
    return tuple(own or settings.ALERT_EMAILS)


def _failing(integration: Integration, after: int) -> dict[str, list[SyncRun]]:
    """{sync name: its last `after` finished runs} for every sync that failed them all."""
    names = SyncRun.objects.filter(integration=integration).values_list("sync_name", flat=True).distinct()
    failing = {}
    for name in sorted(set(names)):
        runs = list(SyncRun.objects.filter(integration=integration, sync_name=name, status__in=FINISHED)
                    .order_by("-started_at", "-id")[:after])
        if len(runs) == after and all(run.status == SyncRun.Status.FAILED for run in runs):
            failing[name] = runs
    return failing


def _late(connector, lag_minutes: int, now: datetime) -> dict[str, datetime | None]:
    """{sync name: last success (None: never)} of scheduled syncs later than interval + lag."""
    integration = connector.integration
    successes = dict(SyncRun.objects.filter(integration=integration, status=SyncRun.Status.SUCCEEDED)
                     .values_list("sync_name").annotate(at=Max("finished_at")))
    late = {}
    for spec in connector.syncs:
        minutes = connector.sync_interval(spec) if spec.scheduled else None
        if not minutes:
            continue
        since = successes.get(spec.name) or integration.created_at
        if now - since > timedelta(minutes=minutes + lag_minutes):
            late[spec.name] = successes.get(spec.name)
    return late


def integration_conditions(*, integration: Integration, now: datetime | None = None) -> list[Condition]:
    """The failing, lagging and given-up conditions of one integration as they are now
    (none holds for a paused integration: it was stopped on purpose)."""
    now = now or timezone.now()
    active, connector = integration.is_active, connector_for(integration)
    after = max(1, connector.setting_int("alert_after_failures", settings.ALERT_AFTER_FAILURES))
    lag_minutes = connector.setting_int("alert_lag_minutes", settings.ALERT_LAG_MINUTES)
    failing = _failing(integration, after) if active else {}
    late = _late(connector, lag_minutes, now) if active and lag_minutes > 0 else {}
    gave_up = Delivery.objects.filter(integration=integration, state=Delivery.State.GAVE_UP)
    given_up = gave_up.count()
    name, recipients = integration.name, _recipients(integration)
    lag_open = Alert.objects.filter(key=f"integration:{integration.pk}:lagging", active=True).exists()
    return [
        Condition(
            f"integration:{integration.pk}:failing", Alert.Kind.FAILING, bool(failing),
            f"{name}: syncs are failing", _failing_body(integration, failing, after), integration, recipients),
        Condition(
            # A failing integration lags too: one e-mail for it is enough.
            f"integration:{integration.pk}:lagging", Alert.Kind.LAGGING, bool(late) and (not failing or lag_open),
            f"{name}: lagging behind the vendor", _late_body(integration, late, lag_minutes), integration,
            recipients),
        Condition(
            f"integration:{integration.pk}:gave_up", Alert.Kind.GAVE_UP, active and given_up > 0,
            f"{name}: deliveries given up", _gave_up_body(integration, gave_up.order_by("-updated_at").first(),
                                                          given_up), integration, recipients),
    ]


def _failing_body(integration: Integration, failing: dict[str, list[SyncRun]], after: int) -> str:
    if not failing:
        return f"Every sync of {integration.name} succeeded on its last run."
    lines = [f"{integration.name}: these syncs failed their last {after} runs in a row."]
    for sync_name, runs in failing.items():
        lines.append(f"- {sync_name}, last at {runs[0].started_at:%Y-%m-%d %H:%M} UTC: {runs[0].error}")
        lines.append(f"  What to do: {failure_cause(runs[0].error)}")
    lines.append("The integration's page under Settings > Integrations shows its runs; the staff "
                 "dashboard (/staff/) its state. One e-mail follows when it works again.")
    return "\n".join(lines)


def _late_body(integration: Integration, late: dict[str, datetime | None], lag_minutes: int) -> str:
    if not late:
        return f"Every scheduled sync of {integration.name} succeeded within its interval."
    lines = [f"{integration.name}: these syncs have not succeeded for longer than their interval plus "
             f"{lag_minutes} minutes (is a task worker running?)."]
    for sync_name, at in late.items():
        lines.append(f"- {sync_name}: last success {f'{at:%Y-%m-%d %H:%M} UTC' if at else 'never'}")
    return "\n".join(lines)


def _gave_up_body(integration: Integration, latest: Delivery | None, count: int) -> str:
    if latest is None:
        return f"No delivery to {integration.name} is given up any more."
    return (f"{count} delivery(ies) to {integration.name} were given up after failing; the latest, "
            f"{latest.kind} {latest.key}: {latest.last_error or 'no error kept'}.\n"
            "Staff can retry them under Deliveries (/staff/deliveries/?state=gave_up).")


def readiness_condition(*, now: datetime | None = None) -> Condition:
    """The service-wide condition: one of the readiness checks fails."""
    failed = [check for check in readiness(now=now) if not check.ok]
    body = ("\n".join(f"- {check.name}: {check.detail}" for check in failed) if failed
            else "Every readiness check passes (database, broker, worker, schedules).")
    return Condition("readiness", Alert.Kind.READINESS, bool(failed), "the service is not ready",
                     f"Readiness checks failing:\n{body}" if failed else body, None, tuple(settings.ALERT_EMAILS))


def _settle(conditions: list[Condition], now: datetime) -> int:
    changed = 0
    for condition in conditions:
        try:
            changed += alert_set(condition=condition, now=now)
        except Exception as error:  # noqa: BLE001 - a mail server down must not stop the other alerts
            logger.error("alert=%s not sent: %s", condition.key, type(error).__name__)
    return changed


def integration_alerts_check(*, integration: Integration, now: datetime | None = None) -> int:
    """Open or close one integration's alerts (after its runs); returns how many changed."""
    now = now or timezone.now()
    try:
        conditions = integration_conditions(integration=integration, now=now)
    except Exception as error:  # noqa: BLE001 - e.g. its connector is no longer registered
        logger.error("alerts of integration=%s not checked: %s", integration.pk, type(error).__name__)
        return 0
    return _settle(conditions, now)


def alerts_check(*, now: datetime | None = None) -> int:
    """Every integration's alerts and the readiness alert (every minute); how many changed."""
    now = now or timezone.now()
    changed = sum(integration_alerts_check(integration=i, now=now) for i in Integration.objects.all())
    return changed + _settle([readiness_condition(now=now)], now)
