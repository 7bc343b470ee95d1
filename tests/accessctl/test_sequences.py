"""Booking sequences: a tag added X minutes before a booked class, removed Y minutes after it."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django_q.models import Schedule

from accessctl.models import SequenceGrant, TagSequence
from accessctl.sequences import SCHEDULE_NAME, sequences_run
from accessctl.tasks import sequences_task
from clients.models import ClientTagChange
from clients.services import client_tags_change
from packages.models import Booking, ClassSession
from tests.factories import BookingFactory, ClassSessionFactory, ClientFactory, LocationFactory, TagFactory

pytestmark = pytest.mark.django_db
START = datetime(2026, 10, 6, 17, 0, tzinfo=UTC)  # 18:00 in London


@pytest.fixture
def tag():
    return TagFactory(name="door-pass")


@pytest.fixture
def sequence(tag):
    return TagSequence.objects.create(name="Appointments open the door", tag=tag,
                                      class_names="Personal training\nYoga", minutes_before=30, minutes_after=15)


@pytest.fixture
def location():
    return LocationFactory(name="Riverside", time_zone="Europe/London")


def booked(location, name="Yoga", start=START, minutes=60, client=None, **extra):
    session = ClassSessionFactory(name=name, location=location, start=start, end=start + timedelta(minutes=minutes))
    return BookingFactory(session=session, client=client or ClientFactory(), **extra)


def has_tag(client, tag) -> bool:
    return client.tags.filter(pk=tag.pk).exists()


def minutes_with_tag(client, tag, first: datetime, last: datetime) -> list[int]:
    """Run the task every minute from `first` to `last`; the minutes (from START) the member held the tag."""
    held, now = [], first
    while now <= last:
        sequences_run(now=now)
        if has_tag(client, tag):
            held.append(int((now - START).total_seconds() // 60))
        now += timedelta(minutes=1)
    return held


def test_the_tag_is_added_and_removed_at_the_right_minutes(sequence, tag, location):
    booking = booked(location)
    held = minutes_with_tag(booking.client, tag, START - timedelta(minutes=40), START + timedelta(minutes=90))
    assert held == list(range(-30, 75))  # from 30 min before the start until 15 min after the end
    changes = list(ClientTagChange.objects.order_by("pk").values_list("action", "at", "reason", "source"))
    assert changes == [
        ("add", START - timedelta(minutes=30), "Sequence Appointments open the door: booked Yoga Tue 06 Oct 18:00",
         "sequence"),
        ("remove", START + timedelta(minutes=75),
         "Sequence Appointments open the door: Yoga Tue 06 Oct 18:00 is over", "sequence"),
    ]


def test_each_change_happens_once_even_when_runs_repeat(sequence, tag, location):
    booking = booked(location)
    for _ in range(3):
        sequences_run(now=START - timedelta(minutes=10))
    assert has_tag(booking.client, tag)
    for _ in range(3):
        sequences_run(now=START + timedelta(minutes=80))
    assert not has_tag(booking.client, tag)
    assert ClientTagChange.objects.count() == 2 and SequenceGrant.objects.count() == 1


def test_only_the_named_classes_at_the_chosen_location_count(sequence, tag, location):
    sequence.location = location
    sequence.save()
    appointment = booked(location, name="PERSONAL TRAINING")
    spin = booked(location, name="Spin")
    elsewhere = booked(LocationFactory(), name="Yoga")
    sequences_run(now=START - timedelta(minutes=5))
    assert [has_tag(b.client, tag) for b in (appointment, spin, elsewhere)] == [True, False, False]


def test_a_cancelled_booking_gets_no_tag_and_loses_it_when_cancelled_later(sequence, tag, location):
    cancelled = booked(location, status=Booking.Status.CANCELLED)
    later = booked(location)
    sequences_run(now=START - timedelta(minutes=20))
    assert not has_tag(cancelled.client, tag) and has_tag(later.client, tag)
    Booking.objects.filter(pk=later.pk).update(status=Booking.Status.CANCELLED)
    sequences_run(now=START - timedelta(minutes=19))
    assert not has_tag(later.client, tag)


def test_a_deleted_class_takes_its_tag_back(sequence, tag, location):
    booking = booked(location)
    sequences_run(now=START - timedelta(minutes=20))
    ClassSession.objects.filter(pk=booking.session_id).delete()
    sequences_run(now=START - timedelta(minutes=19))
    assert not has_tag(booking.client, tag)


def test_a_tag_the_member_already_had_stays_after_the_class(sequence, tag, location):
    booking = booked(location)
    booking.client.tags.add(tag)
    minutes_with_tag(booking.client, tag, START - timedelta(minutes=31), START + timedelta(minutes=76))
    assert has_tag(booking.client, tag) and not ClientTagChange.objects.exists()


def test_back_to_back_bookings_keep_the_tag_until_the_last_one_ends(sequence, tag, location):
    member = ClientFactory()
    booked(location, client=member)
    booked(location, name="Personal training", start=START + timedelta(minutes=60), client=member)
    held = minutes_with_tag(member, tag, START - timedelta(minutes=31), START + timedelta(minutes=140))
    assert held == list(range(-30, 135))
    assert list(ClientTagChange.objects.order_by("pk").values_list("action", flat=True)) == ["add", "remove"]


def test_a_late_booking_gets_the_tag_at_the_next_run_and_a_past_one_never(sequence, tag, location):
    late = booked(location)
    past = booked(location, start=START - timedelta(hours=3))
    sequences_run(now=START + timedelta(minutes=10))
    assert has_tag(late.client, tag) and not has_tag(past.client, tag)


def test_a_switched_off_sequence_adds_nothing_but_still_removes(sequence, tag, location):
    first = booked(location)
    sequences_run(now=START - timedelta(minutes=20))
    sequence.is_active = False
    sequence.save()
    second = booked(location)
    sequences_run(now=START - timedelta(minutes=10))
    assert has_tag(first.client, tag) and not has_tag(second.client, tag)
    sequences_run(now=START + timedelta(minutes=75))
    assert not has_tag(first.client, tag)


def test_a_deleted_sequence_takes_back_what_it_lent(sequence, tag, location):
    booking = booked(location)
    sequences_run(now=START - timedelta(minutes=20))
    sequence.delete()
    sequences_run(now=START - timedelta(minutes=19))
    assert not has_tag(booking.client, tag)


# The every-minute schedule ---------------------------------------------------------------------

def test_saving_a_sequence_schedules_the_task_every_minute_once(tag):
    assert not Schedule.objects.filter(name=SCHEDULE_NAME).exists()
    sequence = TagSequence.objects.create(name="Door", tag=tag, class_names="Yoga")
    sequence.save()
    TagSequence.objects.create(name="Door 2", tag=tag, class_names="Spin")
    schedule = Schedule.objects.get(name=SCHEDULE_NAME)
    assert (schedule.func, schedule.schedule_type, schedule.minutes, schedule.repeats) == (
        "accessctl.tasks.sequences_task", Schedule.MINUTES, 1, -1)


def test_the_task_pauses_itself_when_no_sequence_has_work(sequence, tag, location):
    booking = booked(location, start=datetime.now(UTC) + timedelta(minutes=10))
    sequences_task()
    assert has_tag(booking.client, tag)
    sequence.delete()  # its open loan keeps the schedule running ...
    assert Schedule.objects.get(name=SCHEDULE_NAME).repeats == -1
    assert sequences_task() == "0 opened (0 tags added), 1 closed (1 tags removed)"
    assert Schedule.objects.get(name=SCHEDULE_NAME).repeats == 0  # ... until it is closed
    TagSequence.objects.create(name="Again", tag=tag, class_names="Yoga")
    assert Schedule.objects.get(name=SCHEDULE_NAME).repeats == -1


# Tag changes: the bulk service and the client's page --------------------------------------------

def test_client_tags_change_writes_and_logs_only_real_changes_in_constant_queries(tag, django_assert_num_queries):
    having, lacking = ClientFactory(), [ClientFactory() for _ in range(5)]
    having.tags.add(tag)
    ids = [having.pk, *(c.pk for c in lacking)]
    with django_assert_num_queries(6):  # savepoint, read, check ids, insert tags, insert log, release
        added = client_tags_change(client_ids=ids, tag=tag, add=True, reason="Booked Yoga", source="sequence")
    assert added == {c.pk for c in lacking}
    assert ClientTagChange.objects.filter(action="add").count() == 5
    removed = client_tags_change(client_ids=[lacking[0].pk, ClientFactory().pk], tag=tag, add=False, reason="Over")
    assert removed == {lacking[0].pk} and not has_tag(lacking[0], tag)
    assert ClientTagChange.objects.get(action="remove").source == "gatehouse"


def test_the_clients_page_shows_the_tag_changes(manager_client, sequence, tag, location):
    booking = booked(location)
    sequences_run(now=START - timedelta(minutes=30))
    sequences_run(now=START + timedelta(minutes=75))
    page = manager_client.get(reverse("admin:clients_client_change", args=[booking.client_id])).content.decode()
    assert "Tag changes by Gatehouse" in page
    assert "Sequence Appointments open the door: booked Yoga Tue 06 Oct 18:00" in page
    assert "Sequence Appointments open the door: Yoga Tue 06 Oct 18:00 is over" in page
    assert "2026-10-06 17:30 BST" in page  # in the client's location time zone
    log = reverse("admin:clients_clienttagchange_changelist")
    assert f"{log}?client__id__exact={booking.client_id}" in page
    assert manager_client.get(log, {"client__id__exact": booking.client_id}).status_code == 200
