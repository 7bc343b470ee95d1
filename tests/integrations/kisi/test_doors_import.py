"""Kisi's places, groups and locks become KisiPlaces, KisiGroups and Doors."""

import pytest

from accessctl.models import Door, KisiGroup, KisiPlace
from integrations.models import SyncIssue
from tests.factories import DoorFactory, LocationFactory
from tests.integrations.kisi.conftest import run

pytestmark = pytest.mark.django_db


def test_places_map_to_locations_of_the_same_name(kisi, kisi_integration, uxbridge):
    run(kisi_integration, "doors")
    places = {p.name: p for p in KisiPlace.objects.all()}
    assert places["Uxbridge"].location == uxbridge
    assert places["Spa Road"].location is None  # no location has that name
    uxbridge_id = next(p["id"] for p in kisi.places.values() if p["name"] == "Uxbridge")
    assert places["Uxbridge"].kisi_id == str(uxbridge_id)


def test_groups_keep_their_scope(kisi, kisi_integration, uxbridge):
    run(kisi_integration, "doors")
    members, staff = KisiGroup.objects.get(name="Members"), KisiGroup.objects.get(name="Uxbridge staff")
    assert members.is_organization_scoped
    assert not staff.is_organization_scoped and staff.place.name == "Uxbridge"


def test_locks_become_kisi_doors_at_their_places_location(kisi, kisi_integration, uxbridge):
    result = run(kisi_integration, "doors")
    doors = {d.title: d for d in Door.objects.all()}
    assert set(doors) == {"Uxbridge main entrance", "Uxbridge studio"}
    entrance = doors["Uxbridge main entrance"]
    lock_id = next(lock["id"] for lock in kisi.locks.values() if lock["name"] == "Uxbridge main entrance")
    assert (entrance.door_id, entrance.kisi_lock_id, entrance.access_control, entrance.location) == (
        f"kisi-{lock_id}", str(lock_id), "kisi", uxbridge)
    assert float(entrance.latitude) == pytest.approx(51.5461)
    # The Spa Road place has no location, so its lock cannot be a door yet: an issue says why.
    issue = SyncIssue.objects.get(integration=kisi_integration)
    assert "'Spa Road' is not mapped to a location" in issue.reason
    assert (result.created, result.failed) == (2 + 2 + 2, 1)


def test_a_manager_mapping_is_kept_and_unlocks_the_lock(kisi, kisi_integration, uxbridge):
    run(kisi_integration, "doors")
    bermondsey = LocationFactory(name="Bermondsey")
    KisiPlace.objects.filter(name="Spa Road").update(location=bermondsey)
    LocationFactory(name="Spa Road")  # a same-named location does not undo the manager's choice
    run(kisi_integration, "doors")
    assert KisiPlace.objects.get(name="Spa Road").location == bermondsey
    assert Door.objects.get(title="Spa Road front door").location == bermondsey


def test_a_door_with_the_lock_keeps_its_settings_and_takes_the_name(kisi, kisi_integration, uxbridge):
    lock = next(lock for lock in kisi.locks.values() if lock["name"] == "Uxbridge studio")
    elsewhere = LocationFactory(name="Annex")
    mine = DoorFactory(door_id="UB-STUDIO", title="Old name", location=elsewhere, access_control="kisi",
                       kisi_lock_id=str(lock["id"]))
    run(kisi_integration, "doors")
    mine.refresh_from_db()
    assert (mine.title, mine.door_id, mine.location) == ("Uxbridge studio", "UB-STUDIO", elsewhere)
    assert Door.objects.filter(kisi_lock_id=str(lock["id"])).count() == 1


def test_rerun_changes_nothing_and_renames_follow(kisi, kisi_integration, uxbridge):
    run(kisi_integration, "doors")
    again = run(kisi_integration, "doors")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 6)
    lock = next(lock for lock in kisi.locks.values() if lock["name"] == "Uxbridge studio")
    lock["name"] = "Studio 1"
    renamed = run(kisi_integration, "doors")
    assert renamed.updated == 1 and Door.objects.filter(title="Studio 1").exists()


def test_a_malformed_record_is_an_issue_and_the_page_goes_on(kisi, kisi_integration, uxbridge):
    kisi.inject(malformed=True, path=r"^groups$")
    run(kisi_integration, "doors")
    assert KisiGroup.objects.count() == 1
    assert SyncIssue.objects.filter(integration=kisi_integration, reason="The group has no id.").exists()
