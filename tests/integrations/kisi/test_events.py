"""Kisi unlock events become door accesses: signed webhooks, deduplicated, polling as fallback."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import Schedule

from accessctl.models import Door, DoorAccess, DoorSystemUser
from integrations.connectors import Connector, SyncSpec
from integrations.kisi.records import UnlockEvent, iso_utc
from integrations.kisi.sandbox import webhook_sign
from integrations.models import Integration, SyncRun, WebhookEvent
from integrations.services import integration_save
from integrations.sync import Counts, Page, SyncJob
from tests.factories import ClientPackageFactory
from tests.integrations.kisi.conftest import KISI_WEBHOOK_SECRET, run

pytestmark = pytest.mark.django_db
CHECKINS: list = []


class CheckIn(SyncJob):
    def pages(self, cursor):
        CHECKINS.append(list(DoorAccess.objects.values_list("source_ref", flat=True)))
        yield Page([], cursor=None)

    def apply(self, records):
        return Counts()


class CheckingInMembers(Connector):
    """A member system that checks members in when doors open (as Glofox does)."""

    kind = "checkingin"
    label = "Checking-in member system"
    syncs = [SyncSpec("checkins", "Check-ins", job=CheckIn, default_minutes=1)]
    checkin_sync = "checkins"


@pytest.fixture
def member(kisi, kisi_integration, package_rule, membership):
    """A member with a Kisi user made by Gatehouse; returns (client, Kisi user id)."""
    client = ClientPackageFactory(package=membership).client
    run(kisi_integration, "access")
    return client, int(DoorSystemUser.objects.get(client=client).external_id)


@pytest.fixture
def entrance(imported, kisi):
    lock = next(lock for lock in kisi.locks.values() if lock["name"] == "Uxbridge main entrance")
    return Door.objects.get(kisi_lock_id=str(lock["id"])), lock["id"]


@pytest.fixture
def tasks_inline(monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(Conf, "SYNC", True)
    return django_capture_on_commit_callbacks


@pytest.fixture
def checkins(settings):
    settings.INTEGRATION_CONNECTORS = [*settings.INTEGRATION_CONNECTORS,
                                       "tests.integrations.kisi.test_events.CheckingInMembers"]
    CHECKINS.clear()
    return Integration.objects.create(kind="checkingin", name="Front desk")


def post(client, integration, body: bytes, headers: dict):
    return client.post(f"/api/v1/webhooks/kisi/{integration.pk}/", data=body, content_type="application/json",
                       headers=headers)


def test_signed_unlock_records_a_door_access_and_wakes_check_ins(client, kisi, kisi_integration, member,
                                                                 entrance, tasks_inline, checkins):
    door, lock_id = entrance
    event = kisi.unlock_event(user_id=member[1], lock_id=lock_id)
    with tasks_inline(execute=True):
        response = post(client, kisi_integration, *webhook_sign(KISI_WEBHOOK_SECRET, event))
    assert response.status_code == 202
    access = DoorAccess.objects.get()
    assert (access.client, access.door, access.source, access.source_ref, access.granted) == (
        member[0], door, kisi_integration.source, event["uuid"], True)
    assert iso_utc(access.accessed_at) == event["created_at"]
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.PROCESSED
    assert CHECKINS == [[event["uuid"]]]
    assert SyncRun.objects.get(integration=checkins).trigger == SyncRun.Trigger.ACCESS


def test_an_unlock_points_at_the_kisi_integration_that_reported_it(client, kisi, kisi_integration, member,
                                                                  entrance, tasks_inline):
    other = Integration.objects.create(kind="kisi", name="Kisi of another club")
    event = kisi.unlock_event(user_id=member[1], lock_id=entrance[1])
    with tasks_inline(execute=True):
        assert post(client, kisi_integration, *webhook_sign(KISI_WEBHOOK_SECRET, event)).status_code == 202
    assert DoorAccess.objects.get().integration == kisi_integration
    assert not other.door_accesses.exists()


def test_duplicate_delivery_is_acknowledged_and_recorded_once(client, kisi, kisi_integration, member,
                                                              entrance, tasks_inline):
    event = kisi.unlock_event(user_id=member[1], lock_id=entrance[1])
    body, headers = webhook_sign(KISI_WEBHOOK_SECRET, event)
    with tasks_inline(execute=True):
        assert post(client, kisi_integration, body, headers).status_code == 202
    with tasks_inline(execute=True) as replay:
        again = post(client, kisi_integration, body, headers)
    assert again.status_code == 200 and again.json()["status"] == "duplicate" and replay == []
    assert DoorAccess.objects.count() == 1


def test_forged_signature_is_refused(client, kisi, kisi_integration, member, entrance):
    event = kisi.unlock_event(user_id=member[1], lock_id=entrance[1])
    body, _ = webhook_sign(KISI_WEBHOOK_SECRET, event)
    _, forged = webhook_sign("guessed-secret", event)
    assert post(client, kisi_integration, body, forged).status_code == 401
    assert not WebhookEvent.objects.exists() and not DoorAccess.objects.exists()


def test_unlocks_without_a_known_user_or_door_are_not_recorded(client, kisi, kisi_integration, member,
                                                               entrance, tasks_inline, caplog):
    stranger = kisi.user_add("cleaner@example.com")
    spa_lock = next(lock["id"] for lock in kisi.locks.values() if lock["name"] == "Spa Road front door")
    events = [kisi.unlock_event(user_id=None, lock_id=entrance[1]),  # exit button
              kisi.unlock_event(user_id=stranger["id"], lock_id=entrance[1]),
              kisi.unlock_event(user_id=member[1], lock_id=spa_lock),  # its place has no location: no door
              kisi.unlock_event(user_id=member[1], lock_id=entrance[1], success=False)]
    with caplog.at_level("INFO", logger="gatehouse.kisi"), tasks_inline(execute=True):
        for event in events:
            response = post(client, kisi_integration, *webhook_sign(KISI_WEBHOOK_SECRET, event))
            assert response.status_code == 202
    assert not DoorAccess.objects.exists()
    logged = caplog.text
    for reason in ("no actor", "unknown user", "unknown lock", "unlock refused"):
        assert reason in logged


def test_polling_records_what_the_webhook_missed_once(kisi, kisi_integration, member, entrance, checkins,
                                                      tasks_inline):
    earlier = iso_utc(timezone.now() - timedelta(minutes=20))
    missed = [kisi.unlock_event(user_id=member[1], lock_id=entrance[1], at=earlier) for _ in range(150)]
    kisi.unlock_event(user_id=None, lock_id=entrance[1])
    with tasks_inline(execute=True):
        first = run(kisi_integration, "events")
    assert (first.created, first.skipped, first.pages) == (150, 1, 2)
    assert set(DoorAccess.objects.values_list("source_ref", flat=True)) == {e["uuid"] for e in missed}
    assert len(CHECKINS) == 2  # one wake per page that recorded accesses
    late = kisi.unlock_event(user_id=member[1], lock_id=entrance[1])
    again = run(kisi_integration, "events")
    assert (again.created, again.unchanged) == (1, 0)
    assert DoorAccess.objects.filter(source_ref=late["uuid"]).exists()
    assert DoorAccess.objects.count() == 151


def test_polling_ignores_events_the_webhook_already_recorded(client, kisi, kisi_integration, member, entrance,
                                                             tasks_inline):
    event = kisi.unlock_event(user_id=member[1], lock_id=entrance[1])
    with tasks_inline(execute=True):
        post(client, kisi_integration, *webhook_sign(KISI_WEBHOOK_SECRET, event))
    polled = run(kisi_integration, "events")
    assert (polled.created, polled.unchanged) == (0, 1) and DoorAccess.objects.count() == 1


def test_polling_can_be_switched_off(kisi_integration):
    assert Schedule.objects.filter(name=f"integration:{kisi_integration.pk}:events").exists()
    integration_save(integration=kisi_integration, name="Kisi", secrets={},
                     settings={**kisi_integration.settings, "events_polling": False})
    assert not Schedule.objects.filter(name=f"integration:{kisi_integration.pk}:events").exists()
    access = Schedule.objects.get(name=f"integration:{kisi_integration.pk}:access")
    assert access.minutes == 1


# Unlock events are typed records read leniently in one place (the client), for the webhook
# and the poll alike: malformed ones are skipped, the answers stay the same.
def test_an_event_that_is_not_an_object_keeps_its_body_and_has_no_uuid():
    event = UnlockEvent.from_api(["lock.unlock"])
    assert (event.uuid, event.actor_id, event.success, event.payload) == ("", None, False, ["lock.unlock"])


def test_ids_are_read_as_text_and_only_a_literal_true_is_a_success():
    body = {"uuid": "u-1", "type": "lock.unlock", "success": "yes", "actor_id": 7, "object_id": 0}
    event = UnlockEvent.from_api(body)
    assert (event.actor_id, event.object_id, event.success, event.payload) == ("7", "0", False, body)


def test_polling_skips_malformed_events_and_records_the_good_one(kisi, kisi_integration, member, entrance):
    good = kisi.unlock_event(user_id=member[1], lock_id=entrance[1])
    at = good["created_at"]
    kisi.events += [{"type": "lock.unlock", "created_at": at, "actor_id": member[1], "object_id": entrance[1],
                     "success": True},  # no uuid
                    {**good, "uuid": "other-1", "success": "true"}]  # a success that is not true
    polled = run(kisi_integration, "events")
    assert (polled.status, polled.created, polled.skipped) == ("succeeded", 1, 2)
    assert list(DoorAccess.objects.values_list("source_ref", flat=True)) == [good["uuid"]]


def test_a_webhook_body_without_a_uuid_is_refused_as_before(client, kisi, kisi_integration, member, entrance):
    event = {**kisi.unlock_event(user_id=member[1], lock_id=entrance[1]), "uuid": 0}
    response = post(client, kisi_integration, *webhook_sign(KISI_WEBHOOK_SECRET, event))
    assert response.status_code == 400
    assert response.json()["error"] == "The event cannot be read: a Kisi event has a uuid and a type"
    assert not WebhookEvent.objects.exists() and not DoorAccess.objects.exists()


def test_a_webhook_with_ids_as_text_records_the_door_access(client, kisi, kisi_integration, member, entrance,
                                                            tasks_inline):
    event = kisi.unlock_event(user_id=member[1], lock_id=entrance[1])
    event = {**event, "actor_id": str(event["actor_id"]), "object_id": str(event["object_id"])}
    with tasks_inline(execute=True):
        assert post(client, kisi_integration, *webhook_sign(KISI_WEBHOOK_SECRET, event)).status_code == 202
    access = DoorAccess.objects.get()
    assert (access.source_ref, access.client_id, access.door_id) == (event["uuid"], member[0].pk, entrance[0].pk)
