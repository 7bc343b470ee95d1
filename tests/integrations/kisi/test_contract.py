"""Every call the Kisi client can make, and every call the sandbox serves, is one the
contract (../shared/vendors/kisi.md, listed in integrations.kisi.contract) documents."""

import inspect
from datetime import UTC, datetime, timedelta

import pytest
import requests
import responses

from integrations.kisi.client import KisiClient
from integrations.kisi.contract import CALLS, DOCUMENTED, ID, documented, path_template
from integrations.kisi.sandbox import API_KEY
from tests.integrations.kisi.conftest import KISI_TEST_URL


def public_methods() -> set[str]:
    return {name for name, _ in inspect.getmembers(KisiClient, inspect.isfunction) if not name.startswith("_")}


def drivers(kisi, client: KisiClient) -> dict:
    """One call of each public client method, with arguments the sandbox can answer."""
    user = kisi.user_add("amy@example.com", "Amy")
    group_id = next(iter(kisi.groups))
    lock = next(lock for lock in kisi.locks.values() if lock["online"])
    held = kisi.assignment_add(user_id=user["id"], group_id=group_id)
    kisi.unlock_event(user_id=user["id"], lock_id=lock["id"])
    now = datetime.now(UTC)
    return {
        "places": lambda: list(client.places()),
        "places_count": client.places_count,
        "groups": lambda: list(client.groups(ids=[str(group_id)], place_id=str(lock["place_id"]),
                                             query="Members", scope="organization")),
        "locks": lambda: list(client.locks(place_id=str(lock["place_id"]))),
        "lock_unlock": lambda: client.lock_unlock(str(lock["id"]), latitude=51.5, longitude=-0.4),
        "user_find": lambda: client.user_find("amy@example.com"),
        "users": lambda: list(client.users()),
        "user_create": lambda: client.user_create(email="ben@example.com", name="Ben"),
        "group_assignments": lambda: list(client.group_assignments(str(group_id))),
        "group_assignments_page": lambda: client.group_assignments_page(str(group_id), offset=0),
        "user_assignments": lambda: client.user_assignments(str(user["id"])),
        "assignment_create": lambda: client.assignment_create(
            user_id=str(kisi.user_by_email("ben@example.com")["id"]), group_id=str(group_id),
            valid_from=now, valid_until=now + timedelta(hours=1)),
        "assignment_delete": lambda: client.assignment_delete(str(held["id"])),
        "unlock_events": lambda: list(client.unlock_events(start=now - timedelta(days=1), end=now + timedelta(1))),
    }


@pytest.mark.django_db
def test_every_client_method_calls_only_documented_paths(kisi):
    client = KisiClient(api_key=API_KEY, base_url=KISI_TEST_URL)
    drive = drivers(kisi, client)
    assert set(drive) == public_methods()  # a new method must be driven here too
    sent: dict[str, set[tuple[str, str]]] = {}
    for name, call in drive.items():
        kisi.calls_clear()
        call()
        sent[name] = {(c.method, path_template(c.path)) for c in kisi.calls}
        assert sent[name], f"{name} sent nothing"
        assert sent[name] <= DOCUMENTED, f"{name} sent {sorted(sent[name] - DOCUMENTED)}, outside the contract"
    assert set().union(*sent.values()) == DOCUMENTED  # and no listed call is dead


def test_the_sandbox_serves_only_documented_calls(kisi):
    for method, pattern, handler in kisi.routes:
        assert any(call.method == method and pattern.fullmatch(call.path.replace(ID, "1234")) for call in CALLS), \
            f"the sandbox serves {method} {pattern.pattern} ({handler.__name__}), which the contract does not list"
    lock_id = next(iter(kisi.locks))
    answer = requests.get(f"{KISI_TEST_URL}locks/{lock_id}", headers={"Authorization": f"KISI-LOGIN {API_KEY}"},
                          timeout=5)
    assert answer.status_code == 404 and not documented("GET", f"locks/{lock_id}")


def test_path_templates_name_ids():
    assert path_template("/locks/1234/unlock") == "locks/<id>/unlock"
    assert path_template("role_assignments/77") == "role_assignments/<id>"
    assert documented("POST", "locks/9/unlock") and not documented("GET", "locks/9")


def test_group_assignments_stay_right_when_kisi_ignores_the_group_filter():
    # The group filter is inferred, not documented: a Kisi that lists every group's roles
    # must not make one group's reconcile see (and delete) another group's members.
    listed = [{"id": 1, "user_id": 10, "group_id": 7, "role_id": "group_basic"},
              {"id": 2, "user_id": 11, "group_id": 8, "role_id": "group_basic"}]
    with responses.RequestsMock() as vendor:
        vendor.get(f"{KISI_TEST_URL}role_assignments", json=listed, headers={"X-Collection-Range": "0-1/2"})
        client = KisiClient(api_key=API_KEY, base_url=KISI_TEST_URL)
        found = [a for page in client.group_assignments("7") for a in page]
    assert [(a.id, a.group_id) for a in found] == [("1", "7")]


def test_a_page_of_group_assignments_keeps_the_groups_roles_and_tells_where_the_next_starts():
    listed = [{"id": 1, "user_id": 10, "group_id": 7, "role_id": "group_basic"},
              {"id": 2, "user_id": 11, "group_id": 8, "role_id": "group_basic"}]
    with responses.RequestsMock() as vendor:
        vendor.get(f"{KISI_TEST_URL}role_assignments", json=listed, headers={"X-Collection-Range": "100-101/102"})
        page = KisiClient(api_key=API_KEY, base_url=KISI_TEST_URL).group_assignments_page("7", offset=100)
    assert [a.id for a in page.records] == ["1"] and (page.total, page.next_offset) == (102, 102)
