"""The daily purge: rows that stopped mattering go, everything still in use stays."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule

from clients.lockout import identifier_digest
from clients.models import LoginCounter, MemberToken
from clients.tokens import member_token_authenticate, member_tokens_issue, token_digest
from integrations.housekeeping import SCHEDULE_NAME
from integrations.models import SyncRun, WebhookEvent
from integrations.tasks import housekeeping_task
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db
OLD = timezone.now() - timedelta(days=45)


def event(integration, n: int, status: str, at):
    made = WebhookEvent.objects.create(integration=integration, event_id=f"evt-{n}", payload={}, status=status)
    WebhookEvent.objects.filter(pk=made.pk).update(received_at=at)
    return made.event_id


def run(integration, name: str, status: str, at) -> int:
    return SyncRun.objects.create(integration=integration, sync_name=name, status=status, started_at=at).pk


def test_old_processed_events_and_finished_runs_go_and_the_rest_stays(integration):
    event(integration, 1, WebhookEvent.Status.PROCESSED, OLD)
    kept_events = {event(integration, 2, WebhookEvent.Status.PROCESSED, timezone.now()),
                   event(integration, 3, WebhookEvent.Status.FAILED, OLD),  # staff still have to look
                   event(integration, 4, WebhookEvent.Status.RECEIVED, OLD)}
    run(integration, "members", SyncRun.Status.SUCCEEDED, OLD - timedelta(days=1))
    run(integration, "members", SyncRun.Status.FAILED, OLD)
    kept_runs = {run(integration, "members", SyncRun.Status.SUCCEEDED, OLD),  # the latest success
                 run(integration, "members", SyncRun.Status.FAILED, timezone.now()),
                 run(integration, "visits", SyncRun.Status.RUNNING, OLD)}
    assert housekeeping_task().startswith("purged 1 webhook events, 2 sync runs")
    assert set(WebhookEvent.objects.values_list("event_id", flat=True)) == kept_events
    assert set(SyncRun.objects.values_list("pk", flat=True)) == kept_runs


def test_login_counters_that_still_count_stay(settings):
    now = timezone.now()
    window = timedelta(minutes=settings.MEMBER_LOCKOUT["window_minutes"])
    rows = {
        "stale": dict(failures=3, last_failure_at=now - window * 2),
        "recent failure": dict(failures=3, last_failure_at=now - window / 2),
        "locked": dict(failures=5, last_failure_at=now - window * 2, locked_until=now + timedelta(minutes=5)),
        "trusted ip": dict(last_success_at=now - timedelta(days=2)),
        "trust lapsed": dict(last_success_at=now - timedelta(days=settings.MEMBER_LOCKOUT["trusted_days"] + 1)),
    }
    for name, fields in rows.items():
        LoginCounter.objects.create(key=identifier_digest(name), scope=LoginCounter.Scope.PAIR, **fields)
    housekeeping_task()
    left = set(LoginCounter.objects.values_list("key", flat=True))
    assert left == {identifier_digest(n) for n in ("recent failure", "locked", "trusted ip")}


def test_only_tokens_past_their_expiry_go():
    client = ClientFactory()
    live, old = member_tokens_issue(client=client), member_tokens_issue(client=client)
    family = MemberToken.objects.get(digest=token_digest(old.access)).family
    MemberToken.objects.filter(family=family).update(expires_at=timezone.now() - timedelta(days=2))
    housekeeping_task()
    assert MemberToken.objects.count() == 2 and not MemberToken.objects.filter(family=family).exists()
    assert member_token_authenticate(token=live.access) is not None


def test_the_daily_schedule_exists_after_migrate():
    schedule = Schedule.objects.get(name=SCHEDULE_NAME)
    assert (schedule.func, schedule.schedule_type, schedule.repeats) == (
        "integrations.tasks.housekeeping_task", Schedule.DAILY, -1)


def test_sent_deliveries_go_after_the_keep_days_and_failed_ones_stay(integration):
    from integrations.models import Delivery

    def delivery(key, state, sent_at=None):
        return Delivery.objects.create(integration=integration, kind="checkin", sync_name="checkins", key=key,
                                       state=state, sent_at=sent_at).pk

    delivery("old-sent", Delivery.State.SENT, OLD)
    kept = {delivery("new-sent", Delivery.State.SENT, timezone.now()), delivery("old-gave-up", Delivery.State.GAVE_UP),
            delivery("pending", Delivery.State.PENDING)}
    housekeeping_task()
    assert set(Delivery.objects.values_list("pk", flat=True)) == kept
