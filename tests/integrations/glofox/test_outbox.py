"""The outbox engine, seen through Glofox check-ins: one delivery per key, every call kept
as an attempt (no secret in it), backoff, giving up, retrying, and never sending twice."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accessctl.models import Door
from accessctl.services import DoorEntry, door_accesses_record
from clients.models import Client
from integrations.glofox.sandbox import API_KEY, API_TOKEN, UNLIMITED
from integrations.models import Delivery, DeliveryAttempt
from integrations.outbox import (
    INTERRUPTED,
    Call,
    DeliveryResult,
    Planned,
    Policy,
    deliveries_claim,
    deliveries_enqueue,
    deliveries_send_due,
    outcomes_record,
)
from integrations.sync import sync_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def door(location):
    return Door.objects.create(title="Main entrance", door_id="kisi-9001", location=location,
                               access_control=Door.AccessControl.KISI, kisi_lock_id="9001")


@pytest.fixture
def member(glofox, configuration):
    found = glofox.member_add(membership=UNLIMITED)
    sync_run(integration=configuration.integration, sync_name="members")
    return Client.objects.get(external_id=found["_id"])


def unlock(client, door):
    at = timezone.now()
    door_accesses_record(source="kisi-99", entries=[DoorEntry(
        client_id=client.pk, door=door, accessed_at=at, granted=True, source_ref=f"u-{at.timestamp()}")])


def checkins(integration):
    return sync_run(integration=integration, sync_name="checkins")


def plan(key="checkin:1", version=0, **payload):
    return Planned(kind="checkin", key=key, payload=payload, sync_name="checkins", version=version)


def test_enqueueing_one_key_twice_makes_one_delivery_and_a_newer_version_replaces_it(integration):
    assert deliveries_enqueue(integration=integration, planned=[plan(a=1), plan(a=2)]) == 1
    assert deliveries_enqueue(integration=integration, planned=[plan(a=3)]) == 0
    assert list(Delivery.objects.values_list("key", "payload")) == [("checkin:1", {"a": 2})]
    Delivery.objects.update(state=Delivery.State.SENT)
    assert deliveries_enqueue(integration=integration, planned=[plan(version=5, a=4)]) == 1
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.payload, delivery.version) == ("pending", {"a": 4}, 5)


def test_a_failure_then_a_success_are_two_attempts_with_their_answers_and_no_secret(
        glofox, configuration, member, door):
    unlock(member, door)
    glofox.inject(status=500, path="2.0/access")
    first = checkins(configuration.integration)
    assert (first.created, first.updated, first.failed) == (1, 0, 1)
    Delivery.objects.update(next_attempt_at=timezone.now())
    second = checkins(configuration.integration)
    assert (second.updated, second.failed) == (1, 0)
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.record_type, delivery.client) == (
        "sent", 2, "door_access", member)
    attempts = list(delivery.attempt_log.values_list("request", "ok", "status_code", "response_excerpt"))
    assert [a[:3] for a in attempts] == [("POST 2.0/access", False, 500), ("POST 2.0/access", True, 200)]
    assert "500" in attempts[0][3] and attempts[1][3]  # what Glofox answered, each time
    assert len(glofox.accesses) == 1
    for attempt in DeliveryAttempt.objects.all():
        for text in (attempt.request, attempt.response_excerpt, attempt.error):
            assert API_KEY not in text and API_TOKEN not in text
            assert len(text) <= 300


def test_a_sender_that_echoes_a_secret_has_it_redacted(configuration):
    integration = configuration.integration
    deliveries_enqueue(integration=integration, planned=[plan()])
    [claimed] = deliveries_claim(integration=integration, kinds=["checkin"], limit=10)
    outcomes_record(results=[DeliveryResult(claimed, [Call(
        ok=False, request=f"POST 2.0/access?key={API_KEY}", status_code=400,
        excerpt=f"bad token {API_TOKEN} " + "x" * 500, error=f"VendorError: {API_KEY}")])], policy=Policy())
    attempt = DeliveryAttempt.objects.get()
    assert API_KEY not in attempt.request + attempt.error and API_TOKEN not in attempt.response_excerpt
    assert "***" in attempt.request and len(attempt.response_excerpt) == 300
    assert API_KEY not in Delivery.objects.get().last_error


def test_gives_up_after_the_configured_number_of_attempts_and_a_retry_sends_it_once(
        glofox, configuration, member, door, settings, admin_client):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    unlock(member, door)
    glofox.inject(status=503, path="2.0/access", times=3)
    for _ in range(4):
        Delivery.objects.exclude(state="gave_up").update(next_attempt_at=timezone.now())
        checkins(configuration.integration)
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == ("gave_up", 3, None)
    assert len([c for c in glofox.calls if c.path == "2.0/access"]) == 3 and glofox.accesses == []
    response = admin_client.post("/admin/integrations/delivery/", {
        "action": "retry_now", "_selected_action": [delivery.pk]})
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.state == "pending" and delivery.next_attempt_at <= timezone.now()
    checkins(configuration.integration)
    checkins(configuration.integration)
    delivery.refresh_from_db()
    assert delivery.state == "sent" and len(glofox.accesses) == 1
    assert list(delivery.attempt_log.values_list("status_code", flat=True)) == [503, 503, 503, 200]


def test_a_sent_delivery_is_never_claimed_again(glofox, configuration, member, door):
    unlock(member, door)
    checkins(configuration.integration)
    Delivery.objects.update(next_attempt_at=timezone.now() - timedelta(hours=1))
    assert deliveries_claim(integration=configuration.integration, kinds=["checkin"], limit=10) == []
    checkins(configuration.integration)
    assert len(glofox.accesses) == 1


def test_an_interrupted_send_that_must_not_repeat_is_given_up_and_shown(integration):
    deliveries_enqueue(integration=integration, planned=[Planned(
        kind="checkin", key="once", payload={}, sync_name="checkins", resend_interrupted=False)])
    deliveries_claim(integration=integration, kinds=["checkin"], limit=10)
    Delivery.objects.update(lease_until=timezone.now() - timedelta(seconds=1))  # that worker died
    sent = []
    for results in deliveries_send_due(integration=integration, kinds=["checkin"], policy=Policy(),
                                       sender=lambda d: sent.append(d) or DeliveryResult(d, [Call(ok=True)])):
        outcomes_record(results=results, policy=Policy())
    delivery = Delivery.objects.get()
    assert sent == [] and (delivery.state, delivery.last_error) == ("gave_up", INTERRUPTED)


def test_a_newer_version_enqueued_while_sending_is_not_marked_sent(integration):
    deliveries_enqueue(integration=integration, planned=[plan(key="tag:1:2", version=1, action="add")])
    [claimed] = deliveries_claim(integration=integration, kinds=["checkin"], limit=10)
    deliveries_enqueue(integration=integration, planned=[plan(key="tag:1:2", version=2, action="remove")])
    outcomes_record(results=[DeliveryResult(claimed, [Call(ok=True)])], policy=Policy())
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.payload) == ("pending", {"action": "remove"})


def test_a_sender_that_asks_to_stop_leaves_the_rest_due_and_untried(integration):
    deliveries_enqueue(integration=integration, planned=[plan(key="a"), plan(key="b"), plan(key="c")])
    tried, counts = [], []

    def slow_down(delivery):
        tried.append(delivery.key)
        return DeliveryResult(delivery, [Call(ok=False, status_code=429, excerpt="slow down")],
                              stop=RuntimeError("429"))

    for results in deliveries_send_due(integration=integration, kinds=["checkin"], policy=Policy(),
                                       sender=slow_down):
        counts.append(outcomes_record(results=results, policy=Policy()))
    assert tried == ["a"] and [(c.updated, c.failed) for c in counts] == [(0, 1)]
    states = dict(Delivery.objects.values_list("key", "state"))
    assert states == {"a": "failed", "b": "pending", "c": "pending"}
    assert DeliveryAttempt.objects.count() == 1
