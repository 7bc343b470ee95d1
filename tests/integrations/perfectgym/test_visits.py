"""The ongoing access sync: visits -> door accesses -> bookings attended."""

from datetime import timedelta

import pytest

from accessctl.models import Door, DoorAccess
from clients.models import Client
from integrations.models import SyncIssue
from packages.models import Booking, ClassSession
from tests.factories import ClientFactory
from tests.integrations.perfectgym.conftest import initial, pg_settings, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def synced(sandbox, integration):
    initial(integration)
    history = run(integration, "visits")  # the seeded visits
    assert history.created == DoorAccess.objects.count() > 0
    return integration


@pytest.fixture
def fresh(synced):
    """The door accesses of the test's own visits (not the seeded history)."""
    seeded = list(DoorAccess.objects.values_list("pk", flat=True))
    return lambda: DoorAccess.objects.exclude(pk__in=seeded)


def booking_at(location, client, start):
    session = ClassSession.objects.create(name="Spin", location=location, start=start,
                                          end=start + timedelta(minutes=45))
    return Booking.objects.create(session=session, client=client)


def test_a_visit_becomes_a_door_access_and_marks_the_booking_attended(fresh, sandbox, synced, locations):
    client = Client.objects.get(external_id="1")
    entry = sandbox.now - timedelta(hours=2)
    close = booking_at(locations[1], client, entry + timedelta(minutes=20))
    later = booking_at(locations[1], client, entry + timedelta(hours=3))
    elsewhere = booking_at(locations[2], client, entry + timedelta(minutes=10))
    visit = sandbox.visit_add(member_id=1, club_id=1, enter=entry)
    result = run(synced, "visits")
    assert (result.created, result.failed) == (1, 0)
    access = fresh().get()
    assert (access.client, access.door.door_id, access.accessed_at, access.source_ref, access.granted) == (
        client, "door-UB", entry, f"visit_{visit['id']}", True)
    assert access.source == synced.source
    close.refresh_from_db(), later.refresh_from_db(), elsewhere.refresh_from_db()
    assert (close.attended, later.attended, elsewhere.attended) == (True, False, False)


def test_every_visit_points_at_the_perfect_gym_integration_that_reported_it(synced):
    assert set(DoorAccess.objects.values_list("integration", flat=True)) == {synced.pk}


@pytest.mark.parametrize("minutes, class_after_entry", [(10, 20), (0, 5)], ids=["10 minutes", "zero means zero"])
def test_the_attendance_window_is_a_setting(fresh, sandbox, synced, locations, customer_number, minutes,
                                            class_after_entry):
    from integrations.services import integration_save

    integration_save(integration=synced, name=synced.name, settings=pg_settings(customer_number,
                     attendance_minutes=minutes), secrets={})
    client = ClientFactory(source=synced.source, external_id="7000")
    sandbox.member_put(7000, homeClubId=1)
    entry = sandbox.now - timedelta(hours=1)
    too_early = booking_at(locations[1], client, entry + timedelta(minutes=class_after_entry))
    sandbox.visit_add(member_id=7000, club_id=1, enter=entry)
    run(synced, "visits")
    too_early.refresh_from_db()
    assert fresh().filter(client=client).count() == 1 and too_early.attended is False


def test_a_visit_at_a_club_whose_location_has_no_door_is_an_issue(fresh, sandbox, synced, locations):
    Door.objects.filter(location=locations[4]).update(is_active=False)
    lost = sandbox.visit_add(member_id=7, club_id=4)
    kept = sandbox.visit_add(member_id=1, club_id=1)
    result = run(synced, "visits")
    assert (result.created, result.failed) == (1, 1)
    issue = SyncIssue.objects.get()
    assert issue.record_key == str(lost["id"]) and "has no active door" in issue.reason
    assert fresh().get().source_ref == f"visit_{kept['id']}"


def test_a_visit_at_a_club_no_location_has_is_skipped_and_reported(sandbox, synced):
    sandbox.visit_add(member_id=9, club_id=9)
    result = run(synced, "visits")
    assert (result.created, result.skipped, result.failed) == (0, 1, 0)
    assert "club 9: 1 visits skipped, no location has this club number" in result.report


def test_visits_go_to_the_first_active_door_of_the_location(fresh, sandbox, synced, locations):
    Door.objects.create(title="Side door", door_id="a-side", location=locations[2])
    Door.objects.create(title="Old door", door_id="0-old", location=locations[2], is_active=False)
    sandbox.visit_add(member_id=3, club_id=2)
    run(synced, "visits")
    assert fresh().get().door.door_id == "a-side"


def test_a_visit_of_a_member_not_yet_synced_brings_the_member(fresh, sandbox, synced, locations):
    newcomer = sandbox.member_put(firstName="Walk-in", homeClubId=3)
    sandbox.visit_add(member_id=newcomer["id"], club_id=3)
    result = run(synced, "visits")
    access = fresh().get()
    assert access.client.first_name == "Walk-in" and access.client.home_location == locations[3]
    assert result.created == 1 and "1 client(s) created" in result.report


def test_the_same_visits_twice_record_one_access_each(fresh, sandbox, synced):
    for member_id in (1, 2, 3):
        sandbox.visit_add(member_id=member_id, club_id=1 if member_id < 3 else 2)
    first = run(synced, "visits")
    sandbox.put("MemberClubVisits", max(sandbox.sets["MemberClubVisits"].rows),
                leaveDate="2030-01-01T00:00:00Z")  # the vendor touches one again
    second = run(synced, "visits")
    assert (first.created, second.created, second.unchanged) == (3, 0, 1)
    assert fresh().count() == 3
