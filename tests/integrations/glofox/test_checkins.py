"""Check-ins: an unlock by a member with access through Glofox is sent to Glofox exactly once."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from accessctl.models import Door, DoorAccess
from accessctl.services import DoorEntry, door_accesses_record
from clients.models import Client
from integrations.glofox.checkins import retry_delay
from integrations.glofox.sandbox import BRANCH_ID, PAYG, UNLIMITED
from integrations.models import Delivery, DeliveryAttempt, SyncRun
from integrations.sync import sync_run
from tests.factories import ClientFactory, LocationFactory

pytestmark = pytest.mark.django_db
DOOR_SOURCE = "kisi-99"  # the door system that reported the unlocks


@pytest.fixture
def door(location):
    return Door.objects.create(title="Main entrance", door_id="kisi-9001", location=location,
                               access_control=Door.AccessControl.KISI, kisi_lock_id="9001")


@pytest.fixture
def member(glofox, configuration):
    found = glofox.member_add(membership=UNLIMITED)
    sync_run(integration=configuration.integration, sync_name="members")
    return found


def unlock(client, door, *, at=None, granted=True, ref=None):
    at = at or timezone.now()
    return door_accesses_record(source=DOOR_SOURCE, entries=[DoorEntry(
        client_id=client.pk, door=door, accessed_at=at, granted=granted, source_ref=ref or f"u-{at.timestamp()}",
    )])


def client_of(member):
    return Client.objects.get(external_id=member["_id"])


def checkins(integration):
    return sync_run(integration=integration, sync_name="checkins")


def test_an_unlock_checks_the_member_in_at_the_mapped_branch_once(glofox, configuration, member, door):
    at = timezone.now().replace(microsecond=0)
    unlock(client_of(member), door, at=at)
    run = checkins(configuration.integration)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert glofox.accesses == [{"user_id": member["_id"], "branch_id": BRANCH_ID, "entry_at": int(at.timestamp()),
                                "status": "GRANTED", "door": "Main entrance", "door_type": "kisi"}]
    assert glofox.attendances == []  # no booking close to the entry
    delivery = Delivery.objects.get()
    assert delivery.state == Delivery.State.SENT and delivery.attempts == 1
    assert delivery.attempt_log.get().status_code == 200
    checkins(configuration.integration)
    checkins(configuration.integration)
    assert len(glofox.accesses) == 1 and Delivery.objects.count() == 1


def test_a_booking_close_to_the_unlock_is_marked_attended(glofox, configuration, door):
    payg = glofox.member_add(membership=PAYG)
    start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=40)
    booking = glofox.booking_add(payg["_id"], start=start)
    glofox.booking_add(payg["_id"], start=start + timedelta(hours=3), event_name="Yoga")  # too far off
    sync_run(integration=configuration.integration, sync_name="members")
    sync_run(integration=configuration.integration, sync_name="bookings")
    unlock(client_of(payg), door)
    checkins(configuration.integration)
    assert len(glofox.accesses) == 1
    assert [(a["model_ids"], a["model"]) for a in glofox.attendances] == [([booking["event_id"]], "events")]
    assert Delivery.objects.get().payload["event_id"] == booking["event_id"]


def test_no_check_in_without_access_through_glofox_or_away_from_the_mapped_place(
        glofox, configuration, member, door):
    lapsed = glofox.member_add(status="EXPIRED")
    payg_without_booking = glofox.member_add(membership=PAYG)
    sync_run(integration=configuration.integration, sync_name="members")
    elsewhere = Door.objects.create(title="Other club", door_id="kisi-9002", location=LocationFactory(),
                                    access_control=Door.AccessControl.KISI, kisi_lock_id="9002")
    stranger = ClientFactory()  # a club member who is not a Glofox client
    unlock(client_of(lapsed), door, ref="a")
    unlock(client_of(payg_without_booking), door, ref="b")
    unlock(client_of(member), elsewhere, ref="c")
    unlock(client_of(member), door, granted=False, ref="d")
    unlock(stranger, door, ref="e")
    checkins(configuration.integration)
    assert glofox.accesses == [] and not Delivery.objects.exists()


def test_a_glofox_500_is_retried_with_backoff_and_never_sent_twice(glofox, configuration, member, door):
    unlock(client_of(member), door)
    glofox.inject(status=500, path="2.0/access")
    checkins(configuration.integration)
    delivery = Delivery.objects.get()
    assert delivery.state == Delivery.State.FAILED and delivery.attempts == 1
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=50)
    assert delivery.attempt_log.get().status_code == 500 and "500" in delivery.last_error
    assert glofox.accesses == []
    checkins(configuration.integration)  # not due yet: nothing is sent
    assert len([c for c in glofox.calls if c.path == "2.0/access"]) == 1
    Delivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))  # a minute passes
    checkins(configuration.integration)
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.SENT and delivery.attempts == 2
    assert [a.status_code for a in delivery.attempt_log.all()] == [500, 200]
    Delivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    checkins(configuration.integration)
    assert len(glofox.accesses) == 1


def test_a_failed_attendance_is_retried_without_sending_the_entry_again(glofox, configuration, door):
    payg = glofox.member_add(membership=PAYG)
    glofox.booking_add(payg["_id"], start=datetime.now(UTC) + timedelta(minutes=10))
    for name in ("members", "bookings"):
        sync_run(integration=configuration.integration, sync_name=name)
    unlock(client_of(payg), door)
    glofox.fail_softly(path="2.0/attendances", message="Event is locked", code="EVENT_LOCKED")
    checkins(configuration.integration)
    delivery = Delivery.objects.get()
    assert delivery.state == Delivery.State.FAILED and delivery.attempt_log.filter(step="access", ok=True).exists()
    assert "answered success: false" in delivery.last_error and "Event is locked" not in delivery.last_error
    Delivery.objects.update(next_attempt_at=timezone.now())
    checkins(configuration.integration)
    assert len(glofox.accesses) == 1 and len(glofox.attendances) == 1
    steps = list(DeliveryAttempt.objects.values_list("step", "ok"))
    assert steps == [("access", True), ("attendance", False), ("attendance", True)]


def test_backoff_doubles_and_gives_up_after_the_last_attempt(glofox, configuration, member, door):
    assert [retry_delay(n).total_seconds() / 60 for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    unlock(client_of(member), door)
    glofox.inject(status=503, path="2.0/access", times=100)
    for _ in range(10):
        Delivery.objects.update(next_attempt_at=timezone.now())
        checkins(configuration.integration)
    delivery = Delivery.objects.get()
    assert delivery.state == Delivery.State.GAVE_UP and delivery.attempts == 10
    assert delivery.next_attempt_at is None


def test_a_delivery_claimed_by_another_worker_is_not_sent(glofox, configuration, member, door):
    unlock(client_of(member), door)
    glofox.inject(status=500, path="2.0/access")
    checkins(configuration.integration)
    Delivery.objects.update(next_attempt_at=timezone.now(), claim_token="other", state="sending",
                            lease_until=timezone.now() + timedelta(minutes=5))
    checkins(configuration.integration)
    assert glofox.accesses == []
    Delivery.objects.update(lease_until=timezone.now() - timedelta(seconds=1))  # that worker died
    checkins(configuration.integration)
    assert len(glofox.accesses) == 1


def test_recording_an_unlock_wakes_the_check_in_sync(glofox, configuration, member, door, tasks_inline):
    with tasks_inline(execute=True):
        unlock(client_of(member), door)
    assert len(glofox.accesses) == 1
    assert SyncRun.objects.get(sync_name="checkins").trigger == SyncRun.Trigger.ACCESS


def test_an_entry_committed_late_with_a_lower_id_is_still_checked_in(glofox, configuration, member, door):
    client, now = client_of(member), timezone.now()
    first = DoorAccess.objects.create(client=client, door=door, accessed_at=now, source=DOOR_SOURCE,
                                      source_ref="first")
    DoorAccess.objects.create(pk=first.pk + 2, client=client, door=door, accessed_at=now,
                              source=DOOR_SOURCE, source_ref="third")
    checkins(configuration.integration)
    assert len(glofox.accesses) == 2
    DoorAccess.objects.create(pk=first.pk + 1, client=client, door=door, accessed_at=now,
                              source=DOOR_SOURCE, source_ref="second")  # its transaction commits now
    checkins(configuration.integration)
    assert len(glofox.accesses) == 3 and Delivery.objects.count() == 3


def test_entries_from_before_the_integration_are_not_sent(glofox, configuration, member, door):
    DoorAccess.objects.create(client=client_of(member), door=door, accessed_at=timezone.now(),
                              source=DOOR_SOURCE, source_ref="old", created_at=timezone.now())
    DoorAccess.objects.filter(source_ref="old").update(
        created_at=configuration.integration.created_at - timedelta(days=1))
    checkins(configuration.integration)
    assert glofox.accesses == []
