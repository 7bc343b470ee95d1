"""A member who opens a door close to a session's start is checked in at Momence, once."""

from datetime import UTC, datetime, timedelta

import pytest

from accessctl.services import DoorEntry, door_accesses_record
from clients.models import Client
from integrations.models import Delivery, SyncRun
from integrations.momence.connector import MomenceConnector
from tests.factories import DoorFactory, LocationFactory
from tests.integrations.momence.conftest import calls

pytestmark = pytest.mark.django_db
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def studio(sandbox, run):
    sandbox.member_put(1001, firstName="Ana", lastName="Lee")
    sandbox.member_put(1002, firstName="Ben", lastName="Okafor")
    run("members")
    run("checkins")  # the cursor starts before any door access of this test
    return sandbox


@pytest.fixture
def door(location):
    return DoorFactory(location=location, title="Studio front door")


def booked(sandbox, member_id: int, *, starts_in: timedelta, minutes: int = 60, name: str = "Spin") -> dict:
    session = sandbox.session_add(name=name, start=NOW + starts_in, minutes=minutes)
    return sandbox.booking_add(session["id"], member_id)


def opens(door, external_id: str, *, at: datetime = NOW, granted: bool = True, ref: str = "") -> None:
    client = Client.objects.get(external_id=external_id)
    door_accesses_record(source="kisi-1", entries=[DoorEntry(
        client_id=client.pk, door=door, accessed_at=at, granted=granted,
        source_ref=ref or f"{external_id}-{at.isoformat()}")])


def test_door_access_before_the_start_checks_the_booking_in_once(studio, run, door):
    booking = booked(studio, 1001, starts_in=timedelta(minutes=40))
    run("sessions")
    opens(door, "1001")
    result = run("checkins")
    assert (result.status, result.created, result.updated) == (SyncRun.Status.SUCCEEDED, 1, 1)
    assert studio.checkins == [booking["id"]] and studio.bookings[booking["id"]]["checkedIn"]
    delivery = Delivery.objects.get()
    assert (delivery.payload["booking_ref"], delivery.state, delivery.attempts) == (str(booking["id"]), "sent", 1)
    opens(door, "1001", at=NOW + timedelta(minutes=5))  # out for a coffee and back
    run("checkins")
    run("checkins")
    assert studio.checkins == [booking["id"]]


def test_only_accesses_close_to_the_session_check_in(studio, run, door):
    early = booked(studio, 1001, starts_in=timedelta(minutes=61))  # just outside 60 minutes
    running = booked(studio, 1002, starts_in=timedelta(minutes=-30))  # started, not over
    run("sessions")
    opens(door, "1001")
    opens(door, "1002")
    run("checkins")
    assert studio.checkins == [running["id"]]
    assert early["id"] not in studio.checkins


def test_the_window_before_the_start_is_a_setting(studio, run, door, integration):
    integration.settings["checkin_minutes_before"] = 90
    integration.save()
    booking = booked(studio, 1001, starts_in=timedelta(minutes=80))
    run("sessions")
    opens(door, "1001")
    run("checkins")
    assert studio.checkins == [booking["id"]]


def test_refused_access_other_location_cancelled_booking_and_appointments_check_nothing_in(studio, run, door):
    booked(studio, 1001, starts_in=timedelta(minutes=20))
    cancelled = booked(studio, 1002, starts_in=timedelta(minutes=20))
    cancelled["cancelledAt"] = NOW.isoformat()
    studio.appointment_add(1002, service_id=21, start=NOW + timedelta(minutes=10))
    run("sessions")
    run("appointments")
    opens(door, "1001", granted=False)
    opens(DoorFactory(location=LocationFactory()), "1001", ref="elsewhere")
    opens(door, "1002")
    result = run("checkins")
    assert studio.checkins == [] and not Delivery.objects.exists()
    assert result.status == SyncRun.Status.SUCCEEDED


def test_failed_check_in_is_retried_and_given_up_after_five_attempts(studio, run, door):
    booking = booked(studio, 1001, starts_in=timedelta(minutes=10))
    run("sessions")
    studio.inject(status=503, times=5, path="check-in")
    opens(door, "1001")
    run("checkins")
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempts) == ("failed", 1) and "503" in delivery.last_error
    run("checkins")
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("sent", 2)
    assert studio.checkins == [booking["id"]]

    other = booked(studio, 1002, starts_in=timedelta(minutes=10))
    run("sessions")
    studio.inject(status=500, times=100, path="check-in")
    opens(door, "1002")
    for _ in range(6):
        run("checkins")
    given_up = Delivery.objects.get(payload__booking_ref=str(other["id"]))
    assert (given_up.state, given_up.attempts) == ("gave_up", 5)
    assert len(calls(studio, "POST", f"session-bookings/{other['id']}/check-in")) == 5


def test_a_door_system_recording_accesses_wakes_the_check_in_sync(studio, integration, monkeypatch):
    from integrations import reactions

    queued = []
    monkeypatch.setattr(reactions, "task_queue", lambda *args, **kwargs: queued.append(args))
    reactions.door_accesses_notify()
    assert MomenceConnector.checkin_sync == "checkins"
    assert (integration.pk, "checkins") in [args[1:3] for args in queued]


def test_an_access_committed_late_with_a_lower_id_is_still_seen(studio, run, door):
    from accessctl.models import DoorAccess

    booking = booked(studio, 1001, starts_in=timedelta(minutes=30))
    run("sessions")
    opens(door, "1002", ref="first")
    opens(door, "1002", ref="second")
    held_back = DoorAccess.objects.get(source_ref="first")
    held_back.delete()  # as if its transaction had not committed yet when the sync ran
    run("checkins")
    DoorAccess.objects.create(pk=held_back.pk, client=Client.objects.get(external_id="1001"), door=door,
                              accessed_at=NOW, granted=True, source="kisi-1", source_ref="first")
    run("checkins")
    assert studio.checkins == [booking["id"]]
