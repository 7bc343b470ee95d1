"""A lock's online state: read by the doors sync from GET /locks, kept on the door, and
shown by Test unlock, the door's admin page and the staff dashboard."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accessctl.models import Door
from tests.integrations.kisi.conftest import run

pytestmark = pytest.mark.django_db
DOORS = "/admin/accessctl/door/"


def door(title: str) -> Door:
    return Door.objects.get(title=title)


def test_the_doors_sync_stores_each_locks_online_state(imported):
    assert (door("Uxbridge main entrance").lock_online, door("Uxbridge studio").lock_online) == (True, False)
    assert door("Uxbridge studio").lock_online_at is not None


def test_a_lock_coming_back_online_updates_its_door(kisi, kisi_integration, imported):
    Door.objects.update(lock_online_at=timezone.now() - timedelta(hours=5))
    studio = next(lock for lock in kisi.locks.values() if lock["name"] == "Uxbridge studio")
    studio["online"] = True
    again = run(kisi_integration, "doors")
    assert door("Uxbridge studio").lock_online is True and again.updated == 1
    assert timezone.now() - door("Uxbridge main entrance").lock_online_at < timedelta(minutes=1)


def test_a_lock_that_does_not_say_is_of_unknown_state(kisi, kisi_integration, imported):
    for lock in kisi.locks.values():
        lock.pop("online")
    run(kisi_integration, "doors")
    assert set(Door.objects.values_list("lock_online", flat=True)) == {None}


def test_test_unlock_shows_the_stored_state_with_its_age(admin_client, kisi, imported):
    Door.objects.update(lock_online_at=timezone.now() - timedelta(hours=3, minutes=5))
    kisi.calls_clear()
    front = door("Uxbridge main entrance")
    page = admin_client.post(DOORS, {"action": "test_unlock", "_selected_action": [front.pk]},
                             follow=True).content.decode()
    assert "The lock was online at the last doors sync (3 hours ago)." in page
    assert set(kisi.call_counts()) == {"POST locks/<id>/unlock"}


def test_the_door_page_shows_the_lock_state(admin_client, imported):
    studio = door("Uxbridge studio")
    Door.objects.filter(pk=studio.pk).update(lock_online_at=timezone.now() - timedelta(minutes=12))
    page = admin_client.get(f"{DOORS}{studio.pk}/change/").content.decode()
    assert "Lock online" in page and "The lock was offline at the last doors sync (12 minutes ago)." in page
    never = Door.objects.create(title="Side gate", door_id="SIDE", location=studio.location)
    assert "Not read yet" in admin_client.get(f"{DOORS}{never.pk}/change/").content.decode()


def test_the_staff_dashboard_names_the_offline_locks(admin_client, kisi, kisi_integration, imported):
    page = admin_client.get("/staff/").content.decode()
    card = page[page.index(f'data-integration="{kisi_integration.pk}"'):]
    assert "1 lock offline: Uxbridge studio" in card[:card.index("</section>")]
    front = next(lock for lock in kisi.locks.values() if lock["name"] == "Uxbridge main entrance")
    front["online"] = False
    run(kisi_integration, "doors")
    assert "2 locks offline: Uxbridge main entrance, Uxbridge studio" in admin_client.get("/staff/").content.decode()
