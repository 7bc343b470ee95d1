"""Sessions with their bookings, and appointments, in the coming window -> class sessions
and bookings that booking sequences read."""

from datetime import UTC, datetime, timedelta

import pytest

from integrations.models import SyncIssue, SyncRun
from packages.models import Booking, ClassSession
from tests.integrations.momence.conftest import calls

pytestmark = pytest.mark.django_db


def soon(hours: float) -> datetime:
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(microsecond=0)


@pytest.fixture
def studio(sandbox, run):
    for member_id, name in [(1001, "Ana"), (1002, "Ben"), (1003, "Cy")]:
        sandbox.member_put(member_id, firstName=name, lastName="Lee")
    run("members")
    return sandbox


def test_sessions_and_their_bookings(studio, run, location, integration):
    yoga = studio.session_add(name="Morning Yoga", start=soon(2), minutes=45)
    studio.booking_add(yoga["id"], 1001)
    studio.booking_add(yoga["id"], 1002, cancelledAt=soon(-1).isoformat())
    studio.booking_add(yoga["id"], 1003, checkedIn=True)
    result = run("sessions")
    assert (result.status, result.created, result.failed) == (SyncRun.Status.SUCCEEDED, 4, 0)
    session = ClassSession.objects.get(external_id=f"session:{yoga['id']}")
    assert (session.name, session.location, session.source) == ("Morning Yoga", location, integration.source)
    assert session.end - session.start == timedelta(minutes=45)
    statuses = {b.client.first_name: (b.status, b.attended) for b in session.bookings.select_related("client")}
    assert statuses == {"Ana": ("booked", False), "Ben": ("cancelled", False), "Cy": ("booked", True)}


def test_only_the_coming_window_is_read(studio, run):
    studio.session_add(name="Next month", start=soon(24 * 30))
    studio.session_add(name="Last week", start=soon(-24 * 7))
    studio.session_add(name="Tomorrow", start=soon(24))
    run("sessions")
    assert list(ClassSession.objects.values_list("name", flat=True)) == ["Tomorrow"]
    query = calls(studio, "GET", "host/sessions")[0].query
    start, until = (datetime.fromisoformat(query[k].replace("Z", "+00:00")) for k in ("startAfter", "startBefore"))
    assert timedelta(days=14, hours=23) < until - start <= timedelta(days=15)


def test_second_run_changes_nothing_and_a_booking_gone_from_momence_is_cancelled(studio, run):
    spin = studio.session_add(name="Spin", start=soon(3))
    kept, dropped = studio.booking_add(spin["id"], 1001), studio.booking_add(spin["id"], 1002)
    run("sessions")
    again = run("sessions")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    del studio.bookings[dropped["id"]]
    third = run("sessions")
    assert Booking.objects.get(external_id=f"booking:{dropped['id']}").status == "cancelled"
    assert Booking.objects.get(external_id=f"booking:{kept['id']}").status == "booked"
    assert "no longer lists" in third.report


def test_booking_of_a_member_not_synced_yet_waits_for_the_next_run(studio, run):
    spin = studio.session_add(name="Spin", start=soon(3))
    studio.member_put(1009, firstName="New", lastName="Member")
    studio.booking_add(spin["id"], 1009)
    first = run("sessions")
    assert first.skipped == 1 and not Booking.objects.exists()
    run("members")
    run("sessions")
    assert Booking.objects.get().client.first_name == "New"


def test_appointments_are_sessions_named_after_their_type(studio, run, location):
    pt = studio.appointment_add(1001, service_id=21, start=soon(5), minutes=30)
    physio = studio.appointment_add(1002, service_id=22, start=soon(6), cancelledAt=soon(-2).isoformat())
    result = run("appointments")
    assert result.status == SyncRun.Status.SUCCEEDED and result.created == 4
    session = ClassSession.objects.get(external_id=f"appointment:{pt['id']}")
    assert (session.name, session.location) == ("Personal Training", location)
    booking = Booking.objects.get(external_id=f"appointment:{pt['id']}")
    assert (booking.client.first_name, booking.status, booking.session) == ("Ana", "booked", session)
    assert Booking.objects.get(external_id=f"appointment:{physio['id']}").status == "cancelled"
    assert calls(studio, "GET", "appointments/reservations")[0].query["includeCancelled"] == "true"


def test_unreadable_session_is_an_issue_and_cancels_nothing(studio, run):
    spin = studio.session_add(name="Spin", start=soon(3))
    booking = studio.booking_add(spin["id"], 1001)
    run("sessions")
    studio.sessions[spin["id"]]["endsAt"] = "tomorrow-ish"
    result = run("sessions")
    assert result.failed == 1 and "endsAt" in SyncIssue.objects.get().reason
    assert Booking.objects.get(external_id=f"booking:{booking['id']}").status == "booked"


def test_sessions_need_the_club_location_setting(studio, run, integration):
    integration.settings.pop("location")
    integration.save()
    studio.session_add(name="Spin", start=soon(3))
    result = run("sessions")
    assert result.status == SyncRun.Status.FAILED and "club location" in result.error
