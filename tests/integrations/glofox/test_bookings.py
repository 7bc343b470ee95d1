"""Bookings sync: classes and bookings, branch-local times, by modified date and the coming window."""

import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest

from accessctl.models import AccessRule
from accessctl.selectors import Window, access_expected
from clients.models import Client
from integrations.glofox.sandbox import BRANCH_ID, PACK, PAYG, SECOND_BRANCH_ID, SECOND_UNLIMITED, UNLIMITED
from integrations.models import SyncIssue, SyncState
from integrations.sync import sync_run
from packages.models import Booking, ClassSession
from tests.factories import LocationFactory
from tests.integrations.glofox.conftest import configure

pytestmark = pytest.mark.django_db


def soon(minutes: int) -> datetime:
    return datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=minutes)


def sync(integration, *names, **options):
    return [sync_run(integration=integration, sync_name=name, options=options) for name in names]


def test_a_booking_becomes_a_class_and_a_booking_with_utc_times(glofox, configuration, location):
    member = glofox.member_add(membership=PAYG)
    start = soon(90)
    booking = glofox.booking_add(member["_id"], start=start, minutes=45, event_name="Yoga")
    sync(configuration.integration, "members", "bookings")
    session = ClassSession.objects.get()
    assert (session.name, session.start, session.end, session.location) == (
        "Yoga", start, start + timedelta(minutes=45), location)
    assert session.external_id == booking["event_id"]
    stored = Booking.objects.get()
    assert stored.external_id == booking["_id"] and stored.status == Booking.Status.BOOKED
    assert stored.client.external_id == member["_id"]


def test_branch_local_times_follow_the_branch_time_zone(glofox, integration, group):
    """The second branch is in New York: "2026-..." strings there are five hours behind UTC."""
    downtown = LocationFactory(name="Downtown", time_zone="America/New_York")
    from accessctl.models import KisiPlace

    place = KisiPlace.objects.create(kisi_id="78", name="Downtown", location=downtown)
    configuration = configure(integration, group, place, types=[SECOND_UNLIMITED], branch=SECOND_BRANCH_ID)
    configuration.time_zone = "America/New_York"
    configuration.save()
    member = glofox.member_add(branch=SECOND_BRANCH_ID, membership=SECOND_UNLIMITED)
    start = soon(120)
    booking = glofox.booking_add(member["_id"], start=start, branch=SECOND_BRANCH_ID)
    assert booking["time_start"] == start.astimezone(zoneinfo.ZoneInfo("America/New_York")).strftime(
        "%Y-%m-%d %H:%M:%S")
    sync(integration, "members", "bookings")
    assert ClassSession.objects.get().start == start


def test_payg_member_gets_a_window_from_an_hour_before_to_the_end(glofox, configuration):
    member = glofox.member_add(membership=PAYG)
    start = soon(180)
    glofox.booking_add(member["_id"], start=start, minutes=60)
    sync(configuration.integration, "members", "bookings")
    client = Client.objects.get(external_id=member["_id"])
    assert access_expected()[client.pk] == {
        configuration.kisi_group_id: Window(start - timedelta(hours=1), start + timedelta(hours=1))}
    rule = AccessRule.objects.get(owner=configuration.owner, reason="booking")
    assert rule.location == configuration.kisi_place.location and rule.minutes_before == 60


def test_cancelled_booking_is_cancelled_and_gives_no_access(glofox, configuration):
    member = glofox.member_add(membership=PACK)
    booking = glofox.booking_add(member["_id"], start=soon(30))
    sync(configuration.integration, "members", "bookings")
    assert access_expected() != {}
    glofox.booking_set(booking["_id"], status="CANCELED")
    run, = sync(configuration.integration, "bookings")
    assert run.updated == 1
    assert Booking.objects.get().status == Booking.Status.CANCELLED
    assert access_expected() == {}


def test_booking_made_after_the_first_sync_is_read_by_modified_date(glofox, configuration):
    member = glofox.member_add(membership=PAYG)
    sync(configuration.integration, "members", "bookings")
    glofox.calls.clear()
    glofox.booking_add(member["_id"], start=soon(29))
    run, = sync(configuration.integration, "bookings")
    assert run.created == 1
    modified = [c for c in glofox.calls if "modified_start_date" in c.query]
    assert modified and int(modified[0].query["modified_start_date"]) <= glofox.clock()


def test_the_first_run_reads_the_coming_window_and_then_only_its_new_slice(glofox, configuration):
    member = glofox.member_add(membership=PAYG)
    inside = glofox.booking_add(member["_id"], start=soon(600))
    later = glofox.booking_add(member["_id"], start=soon(60 * 30))  # 30 h ahead: outside the window
    for booking in (inside, later):
        booking["modified"] -= 86400  # booked yesterday: only the window finds it
    sync(configuration.integration, "members", "bookings")
    assert set(Booking.objects.values_list("external_id", flat=True)) == {inside["_id"]}
    state = SyncState.objects.get(integration=configuration.integration, sync_name="bookings")
    window_to = state.cursor[BRANCH_ID]["window_to"]
    assert window_to >= glofox.clock() + 23 * 3600
    state.cursor[BRANCH_ID]["window_to"] = window_to - 300  # five minutes have passed
    state.save()
    glofox.calls.clear()
    sync(configuration.integration, "bookings")
    window = next(c for c in glofox.calls if "time_start_start_date" in c.query)
    assert int(window.query["time_start_start_date"]) == window_to - 300
    assert int(window.query["time_start_end_date"]) - (window_to - 300) < 400


def test_bookings_of_members_not_synced_yet_bring_the_member(glofox, configuration):
    member = glofox.member_add(membership=PAYG)
    glofox.booking_add(member["_id"], start=soon(40))
    sync(configuration.integration, "bookings")
    assert Booking.objects.get().client.external_id == member["_id"]
    assert access_expected()  # the member's PAYG membership came with it


def test_a_class_that_moves_moves_the_window(glofox, configuration):
    member = glofox.member_add(membership=PACK)
    booking = glofox.booking_add(member["_id"], start=soon(300))
    sync(configuration.integration, "members", "bookings")
    zone = zoneinfo.ZoneInfo("Europe/London")
    moved = soon(120)
    glofox.booking_set(booking["_id"], time_start=moved.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
                       time_finish=(moved + timedelta(hours=1)).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"))
    sync(configuration.integration, "bookings")
    client = Client.objects.get(external_id=member["_id"])
    assert access_expected()[client.pk][configuration.kisi_group_id].valid_from == moved - timedelta(hours=1)


def test_unreadable_times_become_an_issue(glofox, configuration):
    member = glofox.member_add(membership=UNLIMITED)
    glofox.booking_add(member["_id"], start=soon(60))
    glofox.booking_add(member["_id"], start=soon(90))
    glofox.inject(malformed=True, path="bookings")
    run, = sync(configuration.integration, "bookings")
    assert run.failed == 1 and Booking.objects.count() == 1
    assert "Unreadable class times" in SyncIssue.objects.get().reason


def test_a_member_placed_late_gets_the_bookings_read_before_they_existed(glofox, configuration):
    """Their record was malformed when the bookings were read; retrying the issue reads the
    coming window again, so the booking (and its access) arrives without waiting for a change."""
    from integrations.services import sync_issue_retry

    member = glofox.member_add(membership=PAYG)
    glofox.booking_add(member["_id"], start=soon(45))
    glofox.inject(malformed=True, path=f"members/{member['_id']}")
    sync(configuration.integration, "bookings")
    assert not Booking.objects.exists()
    issue = SyncIssue.objects.get(integration=configuration.integration, resolved_at__isnull=True)
    state = SyncState.objects.get(integration=configuration.integration, sync_name="bookings")
    cursor = state.cursor
    assert sync_issue_retry(issue=issue)
    booking = Booking.objects.get()
    assert booking.client.external_id == member["_id"]
    assert access_expected()[booking.client_id][configuration.kisi_group_id].valid_from == soon(45) - timedelta(hours=1)
    state.refresh_from_db()
    assert state.cursor == cursor  # the rescan leaves the incremental passes where they were
