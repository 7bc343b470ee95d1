"""Webhooks: signed over the raw body, stored once, processed by a task."""

import pytest
from django_q.conf import Conf

from clients.models import Client
from integrations.models import WebhookEvent
from tests.integrations.conftest import WEBHOOK_SECRET

pytestmark = pytest.mark.django_db


@pytest.fixture
def tasks_inline(monkeypatch, django_capture_on_commit_callbacks):
    """Run django-q tasks in-process, after the request's transaction commits."""
    monkeypatch.setattr(Conf, "SYNC", True)
    return django_capture_on_commit_callbacks


def post(client, integration, body: bytes, headers: dict):
    return client.post(
        f"/api/v1/webhooks/example/{integration.pk}/", data=body, content_type="application/json",
        headers=headers,
    )


def test_signed_event_is_accepted_and_syncs_the_member(client, sandbox, integration, tasks_inline):
    body, headers = sandbox.webhook(WEBHOOK_SECRET, {"id": "evt-1", "type": "member.updated"})
    with tasks_inline(execute=True):
        response = post(client, integration, body, headers)
    assert response.status_code == 202
    event = WebhookEvent.objects.get()
    assert event.event_type == "member.updated" and event.status == WebhookEvent.Status.PROCESSED
    assert Client.objects.filter(source=integration.source).count() == 5


def test_forged_signature_is_refused_and_nothing_stored(client, sandbox, integration):
    body, _ = sandbox.webhook(WEBHOOK_SECRET, {"id": "evt-2", "type": "member.updated"})
    _, forged = sandbox.webhook("not-the-secret", {"id": "evt-2", "type": "member.updated"})
    response = post(client, integration, body, forged)
    assert response.status_code == 401
    assert not WebhookEvent.objects.exists()


def test_missing_signature_is_refused(client, sandbox, integration):
    body, _ = sandbox.webhook(WEBHOOK_SECRET, {"id": "evt-3", "type": "x"})
    assert post(client, integration, body, {}).status_code == 401


def test_body_changed_after_signing_is_refused(client, sandbox, integration):
    body, headers = sandbox.webhook(WEBHOOK_SECRET, {"id": "evt-4", "type": "x"})
    assert post(client, integration, body.replace(b"evt-4", b"evt-5"), headers).status_code == 401


def test_replayed_event_is_acknowledged_and_ignored(client, sandbox, integration, tasks_inline):
    body, headers = sandbox.webhook(WEBHOOK_SECRET, {"id": "evt-6", "type": "member.updated"})
    with tasks_inline(execute=True) as first_callbacks:
        assert post(client, integration, body, headers).status_code == 202
    with tasks_inline(execute=True) as replay_callbacks:
        replay = post(client, integration, body, headers)
    assert replay.status_code == 200 and replay.json()["status"] == "duplicate"
    assert WebhookEvent.objects.count() == 1
    assert len(first_callbacks) == 1 and len(replay_callbacks) == 0


def test_oversized_body_is_refused(client, integration):
    assert post(client, integration, b"{" + b" " * 300_000 + b"}", {}).status_code == 413


def test_unknown_or_inactive_integration_is_404(client, sandbox, integration):
    body, headers = sandbox.webhook(WEBHOOK_SECRET, {"id": "evt-7", "type": "x"})
    integration.is_active = False
    integration.save()
    assert post(client, integration, body, headers).status_code == 404


def test_signed_but_unreadable_event_is_400(client, sandbox, integration):
    body, headers = sandbox.webhook(WEBHOOK_SECRET, {"no": "id"})
    assert post(client, integration, body, headers).status_code == 400


def test_the_event_and_its_task_commit_together_on_the_database_broker(client, sandbox, integration):
    """With the default (database) broker the task row is written in the event's
    transaction: one per new event, none for a repeat, none when the event rolls back."""
    from django.db import transaction
    from django_q.models import OrmQ

    from integrations.webhooks import webhook_receive

    if not Conf.ORM:
        pytest.skip("REDIS_URL is set: tasks go to Redis after commit")
    body, headers = sandbox.webhook(WEBHOOK_SECRET, {"id": "evt-9", "type": "member.updated"})
    assert post(client, integration, body, headers).status_code == 202
    assert post(client, integration, body, headers).status_code == 200
    assert [task.func() for task in OrmQ.objects.all()] == ["integrations.tasks.webhook_task"]
    body, headers = sandbox.webhook(WEBHOOK_SECRET, {"id": "evt-10", "type": "member.updated"})
    with pytest.raises(RuntimeError), transaction.atomic():
        webhook_receive(integration=integration, body=body, headers=headers)
        raise RuntimeError("the request failed after the event was stored")
    assert OrmQ.objects.count() == 1 and WebhookEvent.objects.count() == 1


def test_an_integration_switched_off_by_another_process_takes_no_more_events(client, sandbox, integration):
    """This process has read the integration; another one deactivates it (no signal reaches here)."""
    from integrations.models import Integration

    body, headers = sandbox.webhook(WEBHOOK_SECRET, {"id": "evt-20", "type": "member.updated"})
    assert post(client, integration, body, headers).status_code == 202
    Integration.objects.filter(pk=integration.pk).update(is_active=False)
    body, headers = sandbox.webhook(WEBHOOK_SECRET, {"id": "evt-21", "type": "member.updated"})
    assert post(client, integration, body, headers).status_code == 404
    assert list(WebhookEvent.objects.values_list("event_id", flat=True)) == ["evt-20"]


def test_a_secret_changed_by_another_process_counts_at_once(client, sandbox, integration):
    """The old secret stops working and the new one works, with no restart and no signal here."""
    from django.utils import timezone

    from integrations.models import Integration

    body, headers = sandbox.webhook(WEBHOOK_SECRET, {"id": "evt-22", "type": "member.updated"})
    assert post(client, integration, body, headers).status_code == 202
    elsewhere = Integration.objects.get(pk=integration.pk)
    elsewhere.set_secrets({**elsewhere.secrets(), "webhook_secret": "whsec-rotated"})
    Integration.objects.filter(pk=integration.pk).update(secrets_token=elsewhere.secrets_token,
                                                         updated_at=timezone.now())
    body, headers = sandbox.webhook(WEBHOOK_SECRET, {"id": "evt-23", "type": "member.updated"})
    assert post(client, integration, body, headers).status_code == 401
    body, headers = sandbox.webhook("whsec-rotated", {"id": "evt-24", "type": "member.updated"})
    assert post(client, integration, body, headers).status_code == 202
    assert sorted(WebhookEvent.objects.values_list("event_id", flat=True)) == ["evt-22", "evt-24"]


def test_on_postgresql_an_event_and_its_task_are_written_in_one_statement(client, sandbox, integration,
                                                                          django_assert_max_num_queries):
    """The hot path of a busy door system's unlock webhooks: one round trip, then 202."""
    from django.db import connection
    from django_q.models import OrmQ

    if connection.vendor != "postgresql" or not Conf.ORM:
        pytest.skip("the one-statement store needs PostgreSQL and the database broker")
    body, headers = sandbox.webhook(WEBHOOK_SECRET, {"id": "evt-25", "type": "member.updated"})
    assert post(client, integration, body, headers).status_code == 202  # reads the integration
    body, headers = sandbox.webhook(WEBHOOK_SECRET, {"id": "evt-26", "type": "member.updated"})
    with django_assert_max_num_queries(1):
        assert post(client, integration, body, headers).status_code == 202
    assert [task.task["kwargs"]["event_id"] for task in OrmQ.objects.order_by("id")] == ["evt-25", "evt-26"]
