"""Setting Kisi up: the settings form, "Test connection", Kisi's paging and errors."""

import pytest
from django_q.models import Schedule

from integrations.errors import AuthError
from integrations.kisi.client import collection_total
from integrations.kisi.connector import KisiConnector
from integrations.kisi.records import Group, Lock, Place
from integrations.kisi.sandbox import API_KEY
from integrations.models import Integration
from integrations.services import integration_save
from tests.integrations.kisi.conftest import KISI_TEST_URL

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/integrations/integration/"


def test_adding_kisi_in_the_admin_keeps_the_key_secret_and_schedules_a_one_minute_push(admin_client):
    response = admin_client.post(CHANGELIST + "add/?kind=kisi", {
        "name": "Doors", "is_active": "on", "api_key": API_KEY, "webhook_secret": "whsec-1",
        "reconcile_minutes": "1", "events_polling": "on", "events_minutes": "5", "base_url": KISI_TEST_URL,
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    integration = Integration.objects.get(name="Doors")
    assert integration.secrets() == {"api_key": API_KEY, "webhook_secret": "whsec-1"}
    assert API_KEY not in str(integration.settings)
    assert Schedule.objects.get(name=f"integration:{integration.pk}:access").minutes == 1
    page = admin_client.get(f"{CHANGELIST}{integration.pk}/change/").content.decode()
    assert API_KEY not in page and 'name="api_key"' in page


def test_connection_says_how_many_places_with_kisis_headers(kisi, kisi_integration):
    assert KisiConnector(kisi_integration).test_connection() == "2 place(s) in Kisi"
    call = kisi.calls[-1]
    assert call.header("Authorization") == f"KISI-LOGIN {API_KEY}"
    assert call.header("X-Kisi-Integration-Identifier") == "gatehouse"
    assert call.header("X-Kisi-Integration-Contact")


def test_a_wrong_key_is_an_auth_error_without_the_key(kisi, db):
    wrong = integration_save(kind="kisi", name="Wrong", settings={"base_url": KISI_TEST_URL},
                             secrets={"api_key": "not-the-key-9931"})
    with pytest.raises(AuthError) as refused:
        KisiConnector(wrong).test_connection()
    assert "answered 401: the vendor refused the credentials" in str(refused.value)
    assert "Invalid API key" not in str(refused.value) and "not-the-key-9931" not in str(refused.value)


def test_the_admin_test_connection_action_reports_the_result(admin_client, kisi, kisi_integration):
    response = admin_client.post(
        CHANGELIST, {"action": "test_connection", "_selected_action": [kisi_integration.pk]}, follow=True)
    assert "connection OK (2 place(s) in Kisi)" in response.content.decode()


def test_lists_page_by_100_until_the_collection_range_total(kisi, kisi_integration):
    for n in range(250):
        kisi.user_add(f"user{n}@example.com")
    pages = list(KisiConnector(kisi_integration).client().users())
    assert [len(p) for p in pages] == [100, 100, 50]
    offsets = [c.query["offset"] for c in kisi.calls if c.path == "users"]
    assert offsets == ["0", "100", "200"] and {c.query["limit"] for c in kisi.calls} == {"100"}


def test_an_empty_list_is_one_call(kisi, kisi_integration):
    assert list(KisiConnector(kisi_integration).client().users()) == [[]]
    assert collection_total("*/0") == 0 and collection_total("0-99/250") == 250


def test_rate_limited_list_waits_as_kisi_asks(kisi, kisi_integration, kisi_sleeps):
    kisi.inject(status=429, retry_after=2)
    assert KisiConnector(kisi_integration).test_connection() == "2 place(s) in Kisi"
    assert kisi_sleeps == [2.0] and len(kisi.calls) == 2


def test_groups_can_be_filtered_by_scope_and_place(kisi, kisi_integration):
    client = KisiConnector(kisi_integration).client()
    uxbridge = next(p["id"] for p in kisi.places.values() if p["name"] == "Uxbridge")
    assert [g.name for page in client.groups(scope="organization") for g in page.records] == ["Members"]
    assert [g.name for page in client.groups(place_id=str(uxbridge)) for g in page.records] == [
        "Uxbridge staff"]


def test_places_groups_and_locks_come_as_typed_records(kisi, kisi_integration):
    client = KisiConnector(kisi_integration).client()
    place = kisi.place_add("Ealing")
    lock = kisi.lock_add("Ealing front", place_id=place["id"], online=False)
    odd = kisi.lock_add("Ealing back", place_id=place["id"], online="yes")  # not a bool: unknown
    places = {p.id: p for page in client.places() for p in page.records}
    locks = {item.id: item for page in client.locks(place_id=str(place["id"])) for item in page.records}
    assert isinstance(places[str(place["id"])], Place) and places[str(place["id"])].name == "Ealing"
    assert locks[str(lock["id"])] == Lock(str(lock["id"]), "Ealing front", str(place["id"]), None, None, False)
    assert locks[str(odd["id"])].online is None and locks[str(odd["id"])].payload == odd
    assert all(isinstance(g, Group) for page in client.groups() for g in page.records)
