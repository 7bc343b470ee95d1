"""Alerts: one e-mail when an integration breaks, one when it heals, never one per run."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from django_q.models import Schedule

from integrations.alerts import alerts_check
from integrations.example.sandbox import API_KEY
from integrations.models import Alert, Delivery, SyncRun, WorkerHeartbeat
from integrations.services import integration_save
from integrations.tasks import alerts_task, sync_task
from tests.integrations.conftest import EXAMPLE_URL, WEBHOOK_SECRET

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("schedules_on_time")]

WRONG_KEY = "wrong-key-55120"
TEAM = ["ops@club.example", "frontdesk-lead@club.example"]


def example(*, key=API_KEY, integration=None, **settings):
    return integration_save(
        integration=integration, kind="example", name="Example club",
        settings={"base_url": EXAMPLE_URL, "member_minutes": 5, "notification_emails": TEAM, **settings},
        secrets={"api_key": key, "webhook_secret": WEBHOOK_SECRET},
    )


def run_members(integration, times=1):
    for _ in range(times):
        sync_task(integration.pk, "members")
    return SyncRun.objects.filter(integration=integration).first()


def test_failing_runs_send_one_email_and_healing_sends_one_more(sandbox):
    integration = example(key=WRONG_KEY)  # the key was changed at the vendor
    last = run_members(integration, times=2)
    assert last.status == SyncRun.Status.FAILED and len(mail.outbox) == 0  # 2 < 3 failures
    run_members(integration, times=5)  # every minute, for a while: still one e-mail
    assert len(mail.outbox) == 1
    failed = mail.outbox[0]
    assert failed.to == TEAM
    assert failed.subject == "[Gatehouse] Example club: syncs are failing"
    assert "members, last at" in failed.body and "AuthError" in failed.body and "401" in failed.body
    assert "What to do: Wrong credentials" in failed.body
    assert WRONG_KEY not in failed.body and API_KEY not in failed.body

    example(integration=integration, key=API_KEY)  # a manager enters the new key
    assert run_members(integration).status == SyncRun.Status.SUCCEEDED
    run_members(integration, times=2)
    assert len(mail.outbox) == 2
    healed = mail.outbox[1]
    assert healed.to == TEAM
    assert healed.subject == "[Gatehouse] Recovered: Example club: syncs are failing"
    assert "Every sync of Example club succeeded on its last run." in healed.body
    alerts_task()  # the minute's check finds nothing new to say
    assert len(mail.outbox) == 2


def test_the_threshold_is_per_integration_and_the_default_list_is_settings(sandbox, settings):
    settings.ALERT_EMAILS = ["operator@gatehouse.example"]
    integration = example(key=WRONG_KEY, alert_after_failures=5, notification_emails=[])
    run_members(integration, times=4)
    assert mail.outbox == []
    run_members(integration)
    [sent] = mail.outbox
    assert sent.to == ["operator@gatehouse.example"] and "last 5 runs in a row" in sent.body


def test_a_paused_integration_closes_its_alert_without_pretending_it_works(sandbox):
    integration = example(key=WRONG_KEY)
    run_members(integration, times=3)
    assert Alert.objects.get(key=f"integration:{integration.pk}:failing").active
    integration_save(integration=integration, name=integration.name, is_active=False,
                     settings=integration.settings, secrets={})
    alerts_task()
    assert len(mail.outbox) == 2 and mail.outbox[1].subject.startswith("[Gatehouse] Recovered:")


def test_a_sync_lagging_past_its_interval_and_the_margin_alerts_once(sandbox):
    integration = example(alert_lag_minutes=60)
    run_members(integration)
    later = timezone.now() + timedelta(minutes=5 + 61)  # members every 5 min, nothing since
    assert alerts_check(now=later) >= 1
    alerts_check(now=later + timedelta(minutes=1))
    lagging = [m for m in mail.outbox if "lagging" in m.subject]
    assert len(lagging) == 1 and lagging[0].subject == "[Gatehouse] Example club: lagging behind the vendor"
    assert "members: last success" in lagging[0].body and "is a task worker running?" in lagging[0].body
    SyncRun.objects.filter(integration=integration).update(finished_at=later)  # it caught up
    alerts_check(now=later + timedelta(minutes=2))
    assert [m.subject for m in mail.outbox if "lagging" in m.subject][-1].startswith("[Gatehouse] Recovered:")


def test_lag_alerts_can_be_switched_off(sandbox):
    integration = example(alert_lag_minutes=0)
    run_members(integration)
    alerts_check(now=timezone.now() + timedelta(days=2))
    assert not [m for m in mail.outbox if "lagging" in m.subject]


def test_deliveries_given_up_alert_once_until_none_is_left(sandbox):
    integration = example()
    for n in range(3):
        Delivery.objects.create(integration=integration, kind="checkin", sync_name="members", key=f"visit-{n}",
                                state=Delivery.State.GAVE_UP, attempts=10, last_error="503 from the vendor")
    alerts_task()
    alerts_task()
    [sent] = [m for m in mail.outbox if "given up" in m.subject]
    assert "3 delivery(ies) to Example club were given up" in sent.body and "503 from the vendor" in sent.body
    Delivery.objects.filter(integration=integration).update(state=Delivery.State.SENT)  # retried, sent
    alerts_task()
    assert mail.outbox[-1].subject == "[Gatehouse] Recovered: Example club: deliveries given up"


def test_readiness_failing_is_told_to_the_operators_once(settings):
    settings.ALERT_EMAILS = ["operator@gatehouse.example"]
    stuck = Schedule.objects.create(name="stuck", func="math.floor", schedule_type=Schedule.MINUTES, minutes=1,
                                    repeats=-1, next_run=timezone.now() - timedelta(minutes=30))
    alerts_task()
    alerts_task()
    [down] = mail.outbox
    assert down.to == ["operator@gatehouse.example"]
    assert down.subject == "[Gatehouse] the service is not ready"
    assert "- schedules: 1 overdue: stuck" in down.body
    stuck.delete()
    alerts_task()
    assert mail.outbox[1].subject == "[Gatehouse] Recovered: the service is not ready"


def test_the_alerts_task_counts_as_a_heartbeat(settings):
    """A worker running the minute's alert check is alive: it never reports itself missing."""
    settings.ALERT_EMAILS = ["operator@gatehouse.example"]
    assert not WorkerHeartbeat.objects.exists()
    alerts_task()
    assert mail.outbox == [] and WorkerHeartbeat.objects.count() == 1


def test_a_mail_server_that_fails_leaves_the_alert_to_be_sent_next_time(sandbox, monkeypatch):
    integration = example(key=WRONG_KEY)
    smtp_down = [True]

    def send(*args, **kwargs):
        if smtp_down[0]:
            raise ConnectionRefusedError("smtp down")
        return real_send(*args, **kwargs)

    from integrations import alerts

    real_send = alerts.send_mail
    monkeypatch.setattr(alerts, "send_mail", send)
    run_members(integration, times=3)
    assert not Alert.objects.filter(active=True).exists() and mail.outbox == []
    smtp_down[0] = False
    run_members(integration)
    assert len(mail.outbox) == 1 and Alert.objects.get(key=f"integration:{integration.pk}:failing").active
