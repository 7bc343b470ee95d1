"""Unlocking a Kisi door: the admin's "Test unlock", and the backend over real HTTP."""


import pytest

from accessctl.backends import UnlockResult, door_backend
from accessctl.models import Door
from integrations.kisi.doors import KisiDoors
from integrations.kisi.sandbox import API_KEY, KisiSandbox
from integrations.sandbox.transports import served
from integrations.services import integration_save
from tests.integrations.kisi.conftest import run

pytestmark = pytest.mark.django_db
DOORS = "/admin/accessctl/door/"


def press_test_unlock(admin_client, door: Door) -> str:
    """Press "Test unlock" on one door; return the page's messages."""
    page = admin_client.post(DOORS, {"action": "test_unlock", "_selected_action": [door.pk]}, follow=True)
    return page.content.decode()


@pytest.fixture
def doors(imported):
    return {door.title: door for door in Door.objects.all()}


def test_test_unlock_opens_an_online_lock_and_says_so(admin_client, kisi, doors):
    kisi.calls_clear()
    page = press_test_unlock(admin_client, doors["Uxbridge main entrance"])
    assert ("Uxbridge main entrance: Kisi unlocked it. "
            "The lock was online at the last doors sync (under a minute ago).") in page
    assert [u["lock_id"] for u in kisi.unlocks] == [int(doors["Uxbridge main entrance"].kisi_lock_id)]
    assert kisi.call_counts() == {"POST locks/<id>/unlock": 1}  # the state is the stored one


def test_test_unlock_of_an_offline_lock_says_it_is_offline(admin_client, kisi, doors):
    page = press_test_unlock(admin_client, doors["Uxbridge studio"])
    assert "Uxbridge studio: Kisi did not unlock it" in page
    assert "The lock was offline at the last doors sync" in page and "The lock is offline" not in page  # not echoed
    assert "The lock was offline at the last doors sync" in page.split("Kisi did not unlock it", 1)[1]
    assert kisi.unlocks == []


def test_a_door_without_an_active_kisi_integration_is_refused_plainly(kisi, kisi_integration, doors):
    kisi_integration.is_active = False
    kisi_integration.save()
    front = doors["Uxbridge main entrance"]
    assert door_backend(front).unlock(front) == UnlockResult(False, "No active Kisi integration")
    assert kisi.unlocks == []


def test_errors_never_show_the_api_key(kisi, kisi_integration, doors):
    integration_save(integration=kisi_integration, name="Kisi", settings=kisi_integration.settings,
                     secrets={"api_key": "stale-key-44120"})
    result = KisiDoors().unlock(doors["Uxbridge main entrance"])
    assert not result.ok and result.online is True  # refused; the state is the doors sync's
    assert "stale-key-44120" not in result.message
    assert "refused the credentials" in result.message and "Invalid API key" not in result.message


def test_over_real_http_a_member_unlock_carries_the_location_context(uxbridge):
    fake = KisiSandbox(members=0)
    with served(fake) as url:
        integration = integration_save(kind="kisi", name="Kisi", settings={"base_url": url},
                                       secrets={"api_key": API_KEY})
        run(integration, "doors")
        front = Door.objects.get(title="Uxbridge main entrance")
        result = door_backend(front).unlock(front, latitude=51.5461, longitude=-0.4785)
        status = door_backend(front).status(front)
    assert result == UnlockResult(True, "Kisi unlocked it", True, front.lock_online_at)
    assert fake.unlocks == [{"lock_id": int(front.kisi_lock_id),
                             "context": {"location": {"latitude": 51.5461, "longitude": -0.4785}}}]
    assert status.ok and status.online is True and "was online at the last doors sync" in status.message
