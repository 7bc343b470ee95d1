"""Doors: their validation, their import, and entries recorded through them."""

from datetime import timedelta

import pytest
import tablib
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accessctl.models import Door, DoorAccess
from accessctl.resources import DoorResource
from accessctl.services import DoorEntry, door_accesses_record
from packages.models import Booking
from packages.services import bookings_mark_attended
from tests.factories import BookingFactory, DoorFactory, LocationFactory

pytestmark = pytest.mark.django_db

DOORS_CSV = (
    "door_id,title,location,access_control,kisi_lock_id,is_active\n"
    "D-LON-1,Front door,LON,kisi,4711,1\n"
    "D-LON-2,Back door,LON,disabled,,1\n"
)


def errors_of(instance) -> dict:
    """The per-field errors full_clean reports for `instance` (empty when valid)."""
    try:
        instance.full_clean()
    except ValidationError as error:
        return error.message_dict
    return {}


def test_kisi_door_needs_a_kisi_lock_id():
    door = DoorFactory.build(location=LocationFactory(), access_control="kisi", kisi_lock_id="")
    assert errors_of(door) == {"__all__": ["A door controlled by Kisi needs its Kisi lock ID."]}
    with pytest.raises(IntegrityError), transaction.atomic():
        door.save()


def test_kisi_door_with_a_lock_id_and_a_door_without_access_control_are_valid():
    location = LocationFactory()
    assert errors_of(DoorFactory.build(location=location, access_control="kisi",
                                       kisi_lock_id="4711")) == {}
    assert errors_of(DoorFactory.build(location=location, access_control="disabled")) == {}


def test_door_id_is_unique():
    DoorFactory(door_id="D-1")
    assert "door_id" in errors_of(DoorFactory.build(door_id="D-1", location=LocationFactory()))


def test_doors_csv_imports_every_row():
    LocationFactory(alt_id="LON")
    result = DoorResource().import_data(tablib.Dataset().load(DOORS_CSV, format="csv"))
    assert not result.has_errors() and not result.has_validation_errors()
    front = Door.objects.get(door_id="D-LON-1")
    assert (front.location.alt_id, front.access_control, front.kisi_lock_id) == ("LON", "kisi", "4711")


def test_door_file_with_a_kisi_door_without_lock_imports_nothing():
    LocationFactory(alt_id="LON")
    bad = DOORS_CSV + "D-LON-3,Side door,LON,kisi,,1\n"
    result = DoorResource().import_data(tablib.Dataset().load(bad, format="csv"))
    assert [row.number for row in result.invalid_rows] == [3]
    assert not Door.objects.exists()


def test_doors_import_from_xlsx():
    LocationFactory(alt_id="LON")
    book = tablib.Dataset().load(DOORS_CSV, format="csv").export("xlsx")
    DoorResource().import_data(tablib.Dataset().load(book, format="xlsx"))
    assert Door.objects.count() == 2


@pytest.fixture
def booking():
    """A booked class starting in an hour, 45 minutes long."""
    return BookingFactory()


def attended(booking) -> bool:
    return Booking.objects.get(pk=booking.pk).attended


def entry_at(booking, offset: timedelta, location=None) -> list:
    location = location or booking.session.location
    return [(booking.client_id, location.pk, booking.session.start + offset)]


@pytest.mark.parametrize(("offset", "marks"), [
    (timedelta(minutes=-30), True),
    (timedelta(minutes=-31), False),
    (timedelta(minutes=10), True),
    (timedelta(minutes=45), True),
    (timedelta(minutes=46), False),
], ids=["30-min-before", "31-min-before", "during", "at-the-end", "after-the-end"])
def test_door_entry_marks_attended_when_close_to_the_class(booking, offset, marks):
    bookings_mark_attended(entries=entry_at(booking, offset))
    assert attended(booking) is marks


def test_entry_at_another_location_does_not_mark_attended(booking):
    bookings_mark_attended(entries=entry_at(booking, timedelta(0), location=LocationFactory()))
    assert not attended(booking)


def test_entry_does_not_mark_a_cancelled_booking_attended():
    booking = BookingFactory(status=Booking.Status.CANCELLED)
    assert bookings_mark_attended(entries=entry_at(booking, timedelta(0))) == 0
    assert not attended(booking)


def test_entry_marks_only_the_clients_own_booking(booking):
    other = BookingFactory(session=booking.session)
    bookings_mark_attended(entries=entry_at(booking, timedelta(0)))
    assert attended(booking) and not attended(other)


def record(booking, offset: timedelta, ref="evt-1", granted=True, door=None):
    door = door or DoorFactory(location=booking.session.location)
    return door_accesses_record(source="kisi", entries=[DoorEntry(
        client_id=booking.client_id, door=door, accessed_at=booking.session.start + offset,
        granted=granted, source_ref=ref,
    )])


@pytest.mark.parametrize(("offset", "marks"), [
    (timedelta(minutes=-30), True),
    (timedelta(minutes=-31), False),
    (timedelta(minutes=20), True),
    (timedelta(minutes=50), False),
], ids=["30-min-before", "31-min-before", "during", "after-the-end"])
def test_recorded_door_access_marks_attended_when_close_to_the_class(booking, offset, marks):
    record(booking, offset)
    assert DoorAccess.objects.filter(client=booking.client, source="kisi").count() == 1
    assert attended(booking) is marks


def test_recorded_access_at_a_door_of_another_location_does_not_mark_attended(booking):
    record(booking, timedelta(0), door=DoorFactory())
    assert not attended(booking)


def test_recorded_access_does_not_mark_a_cancelled_booking_attended():
    booking = BookingFactory(status=Booking.Status.CANCELLED)
    record(booking, timedelta(0))
    assert not attended(booking)


def test_refused_entry_is_recorded_but_does_not_mark_attended(booking):
    record(booking, timedelta(0), granted=False)
    assert DoorAccess.objects.get().granted is False
    assert not attended(booking)


def test_same_source_ref_recorded_twice_is_stored_once(booking):
    door = DoorFactory(location=booking.session.location)
    first = record(booking, timedelta(0), ref="evt-1", door=door)
    second = record(booking, timedelta(minutes=1), ref="evt-1", door=door)
    assert (len(first), len(second)) == (1, 0)
    assert DoorAccess.objects.filter(source="kisi", source_ref="evt-1").count() == 1


def test_same_source_ref_twice_in_one_batch_is_stored_once(booking):
    door = DoorFactory(location=booking.session.location)
    entry = DoorEntry(client_id=booking.client_id, door=door, accessed_at=timezone.now(),
                      granted=True, source_ref="evt-1")
    door_accesses_record(source="kisi", entries=[entry, entry])
    assert DoorAccess.objects.count() == 1


def test_same_source_ref_from_another_source_is_another_access(booking):
    door = DoorFactory(location=booking.session.location)
    for source in ["kisi", "glofox"]:
        door_accesses_record(source=source, entries=[DoorEntry(
            client_id=booking.client_id, door=door, accessed_at=timezone.now(),
            granted=True, source_ref="evt-1",
        )])
    assert DoorAccess.objects.count() == 2
