"""The door system's places, groups, locks and users mirrored in bulk, a constant cost per page."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accessctl.models import Door, DoorSystemUser, KisiGroup, KisiPlace
from accessctl.records import DoorGroupRecord, DoorLockRecord, DoorPlaceRecord, DoorSystemUserRecord
from accessctl.services import (
    door_system_users_link,
    kisi_doors_upsert,
    kisi_groups_upsert,
    kisi_places_upsert,
)
from tests.factories import ClientFactory, DoorFactory, LocationFactory

pytestmark = pytest.mark.django_db


def places(count: int) -> list[DoorPlaceRecord]:
    return [DoorPlaceRecord(kisi_id=str(n), name=f"Place {n}") for n in range(count)]


def locks(count: int, place: str = "0") -> list[DoorLockRecord]:
    return [DoorLockRecord(lock_id=str(100 + n), title=f"Lock {n}", place_kisi_id=place,
                           latitude=Decimal("51.5"), longitude=Decimal("-0.1")) for n in range(count)]


def test_places_map_by_name_once_and_keep_a_managers_choice():
    soho = LocationFactory(name="SOHO")
    LocationFactory(name="Twin")
    LocationFactory(name="twin")  # two locations with the name: no guess
    result = kisi_places_upsert(records=[DoorPlaceRecord("1", "Soho", "Europe/London"),
                                         DoorPlaceRecord("2", "Twin")])
    assert result.created == 2
    assert KisiPlace.objects.get(kisi_id="1").location == soho
    assert KisiPlace.objects.get(kisi_id="2").location is None
    chosen = LocationFactory(name="Chosen")
    KisiPlace.objects.filter(kisi_id="1").update(location=chosen)
    again = kisi_places_upsert(records=[DoorPlaceRecord("1", "Soho", "Europe/London")])
    assert again.unchanged == 1 and KisiPlace.objects.get(kisi_id="1").location == chosen


def test_groups_keep_their_scope_and_wait_for_their_place():
    kisi_places_upsert(records=places(1))
    result = kisi_groups_upsert(records=[DoorGroupRecord("g1", "Members"),
                                         DoorGroupRecord("g2", "Staff", place_kisi_id="0"),
                                         DoorGroupRecord("g3", "Elsewhere", place_kisi_id="99")])
    assert (result.created, result.skipped) == (2, 1)
    assert KisiGroup.objects.get(kisi_id="g1").is_organization_scoped
    assert KisiGroup.objects.get(kisi_id="g2").place.kisi_id == "0"


def test_locks_become_doors_only_where_the_place_has_a_location():
    location = LocationFactory()
    kisi_places_upsert(records=places(2))
    KisiPlace.objects.filter(kisi_id="0").update(location=location)
    result = kisi_doors_upsert(records=locks(2) + [DoorLockRecord("900", "Unmapped", "1")])
    assert (result.created, result.skipped) == (2, 1)
    door = Door.objects.get(kisi_lock_id="100")
    assert (door.door_id, door.access_control, door.location) == ("kisi-100", "kisi", location)


def test_a_door_someone_made_for_the_lock_keeps_its_settings():
    mine = DoorFactory(door_id="FRONT", title="Front", access_control="disabled", kisi_lock_id="100")
    kisi_places_upsert(records=places(1))
    result = kisi_doors_upsert(records=locks(1))
    mine.refresh_from_db()
    assert result.updated == 1
    assert (mine.door_id, mine.access_control, mine.title) == ("FRONT", "disabled", "Lock 0")


def test_a_page_costs_the_same_statements_whatever_its_size():
    def statements(call) -> int:
        with CaptureQueriesContext(connection) as captured:
            call()
        return len(captured.captured_queries)

    small_places = statements(lambda: kisi_places_upsert(records=places(1)))
    big_places = statements(lambda: kisi_places_upsert(
        records=[DoorPlaceRecord(kisi_id=f"p{n}", name=f"Big {n}") for n in range(100)]))
    KisiPlace.objects.filter(kisi_id="0").update(location=LocationFactory())
    small_doors = statements(lambda: kisi_doors_upsert(records=locks(1)))
    # 90, not 100: SQLite takes 999 parameters a statement, so Django inserts 99 doors (10 columns) at once.
    big_doors = statements(lambda: kisi_doors_upsert(
        records=[DoorLockRecord(lock_id=f"L{n}", title=f"Lock {n}", place_kisi_id="0") for n in range(90)]))
    assert (small_places, small_doors) == (big_places, big_doors)


def test_users_are_linked_once_per_client():
    first, second = ClientFactory(), ClientFactory()
    assert door_system_users_link(system="kisi-1", records=[DoorSystemUserRecord(first.pk, "7", "a@x.com")]) == 1
    again = door_system_users_link(system="kisi-1", records=[DoorSystemUserRecord(first.pk, "8"),
                                                             DoorSystemUserRecord(second.pk, "9")])
    assert again == 1
    assert dict(DoorSystemUser.objects.values_list("client_id", "external_id")) == {first.pk: "7", second.pk: "9"}
