"""Door accesses: each Gladstone attendance is one DoorAccess on the SiteID's door."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from accessctl.models import DoorAccess
from clients.models import Client
from integrations.models import SyncIssue, SyncState
from packages.models import Booking
from tests.factories import BookingFactory, ClassSessionFactory
from tests.integrations.gladstone.conftest import add_member, sync

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


def local_now() -> datetime:
    return datetime.now(LONDON).replace(tzinfo=None, microsecond=0)


@pytest.fixture
def member(gladstone, integration):
    member_id = add_member(gladstone)
    sync(integration)
    return member_id


def test_attendance_becomes_a_door_access_on_the_sites_door(gladstone, integration, member):
    at = local_now() - timedelta(minutes=20)
    attendance_id = gladstone.attendance_add(member, "SPA", at)
    run = sync(integration, "accesses")
    access = DoorAccess.objects.select_related("door", "client").get()
    assert access.door.door_id == "SPA" and access.client.external_id == str(member)
    assert access.accessed_at == at.replace(tzinfo=LONDON) and access.granted
    assert access.source == integration.source and access.source_ref == f"SPA-{attendance_id}"
    assert run.created == 1


def test_a_door_access_points_at_the_gladstone_integration_that_reported_it(gladstone, integration, member):
    gladstone.attendance_add(member, "SPA", local_now() - timedelta(minutes=20))
    sync(integration, "accesses")
    assert DoorAccess.objects.get().integration == integration


def test_refused_entry_is_recorded_as_not_granted(gladstone, integration, member):
    gladstone.attendance_add(member, "UB", local_now() - timedelta(minutes=5), granted=False)
    sync(integration, "accesses")
    assert DoorAccess.objects.get().granted is False


def test_running_again_records_each_access_once(gladstone, integration, member):
    gladstone.attendance_add(member, "UB", local_now() - timedelta(minutes=10))
    sync(integration, "accesses")
    gladstone.attendance_add(member, "UB", local_now() - timedelta(minutes=1))
    again = sync(integration, "accesses")
    assert DoorAccess.objects.count() == 2
    assert again.created == 1 and again.unchanged == 1  # the overlap re-reads the first, stored once
    cursor = SyncState.objects.get(integration=integration, sync_name="accesses").cursor
    assert set(cursor) == {"UB", "SPA"}


def test_access_close_to_a_booked_class_marks_it_attended(gladstone, integration, club, member):
    client = Client.objects.get(external_id=str(member))
    soon = ClassSessionFactory(location=club["UB"], start=datetime.now(UTC) + timedelta(minutes=20))
    later = ClassSessionFactory(location=club["UB"], start=datetime.now(UTC) + timedelta(hours=3))
    elsewhere = ClassSessionFactory(location=club["SPA"], start=datetime.now(UTC) + timedelta(minutes=20))
    near, far, other = (BookingFactory(client=client, session=s) for s in (soon, later, elsewhere))
    gladstone.attendance_add(member, "UB", local_now() - timedelta(minutes=2))
    sync(integration, "accesses")
    attended = set(Booking.objects.filter(attended=True).values_list("pk", flat=True))
    assert attended == {near.pk} and far.pk not in attended and other.pk not in attended


def test_access_of_an_unknown_member_is_skipped(gladstone, integration, member):
    stranger = add_member(gladstone, status_id="LAPSED")  # never created
    gladstone.attendance_add(stranger, "UB", local_now() - timedelta(minutes=3))
    run = sync(integration, "accesses")
    assert not DoorAccess.objects.exists() and run.skipped == 1


def test_unreadable_attendance_becomes_an_issue(gladstone, integration, member):
    gladstone.attendance_add(member, "UB", local_now() - timedelta(minutes=3))
    gladstone.attendance_add(member, "UB", local_now() - timedelta(minutes=2))
    gladstone.inject(malformed=True)
    run = sync(integration, "accesses")
    assert run.failed == 1 and DoorAccess.objects.count() == 1
    assert "AccessDateTime" in SyncIssue.objects.get().reason


def test_sites_without_a_door_are_not_read(gladstone, integration, member, club):
    club["SPA"].doors.all().delete()
    sync(integration, "accesses")
    reads = [call.body.decode() for call in gladstone.calls if b"GetMemberAttendances" in call.body]
    assert reads and all("<siteId>UB</siteId>" in body for body in reads)


def test_a_long_gap_is_read_in_windows_of_a_day(gladstone, integration, member):
    from integrations.gladstone.syncs import WINDOW

    three_days = (datetime.now(UTC) - timedelta(days=3, minutes=-1)).isoformat()  # just under 3 days
    SyncState.objects.create(integration=integration, sync_name="accesses", cursor={"UB": three_days})
    gladstone.attendance_add(member, "UB", local_now() - timedelta(days=2))
    run = sync(integration, "accesses")
    reads = [c for c in gladstone.calls if b"<siteId>UB</siteId>" in c.body]
    assert len(reads) == 3 and WINDOW == timedelta(days=1)
    assert run.created == 1


# the settings: first run's look-back, attendance window ----------------------------------
def settings_set(integration, **values):
    integration.settings = {**integration.settings, **values}
    integration.save()


def test_a_first_run_reads_the_last_week_by_default(gladstone, integration, member):
    five_days = local_now() - timedelta(days=5)  # before connecting
    gladstone.attendance_add(member, "UB", five_days)
    gladstone.attendance_add(member, "UB", local_now() - timedelta(days=8))
    run = sync(integration, "accesses")
    assert list(DoorAccess.objects.values_list("accessed_at", flat=True)) == [five_days.replace(tzinfo=LONDON)]
    assert run.created == 1


def test_the_first_look_back_is_a_setting(gladstone, integration, member):
    settings_set(integration, first_lookback_days=2)
    gladstone.attendance_add(member, "UB", local_now() - timedelta(days=5))
    gladstone.attendance_add(member, "UB", local_now() - timedelta(days=1))
    sync(integration, "accesses")
    assert DoorAccess.objects.count() == 1


@pytest.mark.parametrize(("minutes", "attended"), [(None, False), (60, True), (30, False)])
def test_the_attendance_window_is_a_setting(gladstone, integration, club, member, minutes, attended):
    if minutes is not None:
        settings_set(integration, attendance_minutes=minutes)
    client = Client.objects.get(external_id=str(member))
    session = ClassSessionFactory(location=club["UB"], start=datetime.now(UTC) + timedelta(minutes=50))
    booking = BookingFactory(client=client, session=session)
    gladstone.attendance_add(member, "UB", local_now() - timedelta(minutes=2))  # 52 minutes before
    sync(integration, "accesses")
    booking.refresh_from_db()
    assert booking.attended is attended  # the default is 30 minutes, as Perfect Gym's


def test_the_attendance_setting_is_perfect_gyms():
    from integrations.gladstone.connector import GladstoneConnector
    from integrations.perfectgym.connector import PerfectGymConnector

    def field(connector, name):
        return next(spec.form_field for spec in connector.settings_fields if spec.name == name)

    ours, theirs = field(GladstoneConnector, "attendance_minutes"), field(PerfectGymConnector, "attendance_minutes")
    assert (ours.initial, ours.label, ours.min_value) == (theirs.initial, theirs.label, theirs.min_value) == (
        30, "Attended when entering up to (minutes) before a class", 0)
    assert field(GladstoneConnector, "first_lookback_days").initial == 7
