"""The member app's doors API: the doors I can open, and unlocking one."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accessctl.backends import UnlockResult
from accessctl.models import DoorRules, UnlockAttempt
from clients.authentication import Member
from clients.tokens import member_tokens_issue
from packages.models import ClientPackage, Package
from tests.accessctl.conftest import LAT, LON, held, rules_set, visit_type_add
from tests.factories import DoorFactory, TagFactory

pytestmark = pytest.mark.django_db
NEAR = {"latitude": float(LAT) + 0.0005, "longitude": float(LON)}  # about 56 m north
FAR = {"latitude": float(LAT) + 0.01, "longitude": float(LON)}  # about 1.1 km north


@pytest.fixture
def api(member):
    client = APIClient()
    client.force_authenticate(user=Member(client=member))
    return client


@pytest.fixture
def paid_door(door, member):
    """Paid access, 2 credits a visit from a 5-credit pack, any time; geofence 500 ft."""
    rules_set(door, paid_access=True, geofence=True, geofence_radius=500, geofence_unit="ft")
    package = held(member, Package.Kind.CREDIT_PACK, credits=5, name="5-visit pack")
    visit_type_add(door, packages=[package.package], price=2)
    return door


def post_unlock(api, door, key="tap-1", body=None):
    return api.post(f"/api/v1/doors/{door.pk}/unlock", body if body is not None else NEAR, format="json",
                    headers={"Idempotency-Key": key} if key else {})


def test_doors_lists_what_i_can_open_with_cost_and_geofence(api, paid_door, member, location):
    tag = TagFactory(name="members")
    member.tags.add(tag)
    front = DoorFactory(title="Front door", location=location, access_control="kisi", kisi_lock_id="1")
    DoorRules.objects.create(door=front).tags.add(tag)
    staff_only = DoorFactory(title="Staff room", location=location, access_control="kisi", kisi_lock_id="2")
    DoorRules.objects.create(door=staff_only).tags.add(TagFactory(name="staff"))

    near = api.get("/api/v1/doors", NEAR)
    assert near.status_code == 200
    doors = {d["title"]: d for d in near.json()}
    assert set(doors) == {"Open gym", "Front door"}
    assert doors["Open gym"] | {"distance_m": None} == {
        "id": paid_door.pk, "title": "Open gym", "location": "Riverside", "opens_by": "payment",
        "needs_payment": True, "credits": 2, "visit_type": "Open gym visit", "paid_with": "5-visit pack",
        "geofence": {"radius": 500, "unit": "ft", "radius_m": pytest.approx(152.4)}, "inside_geofence": True,
        "distance_m": None, "can_open_now": True, "reason": "Open gym visit: 2 credits from your 5-visit pack.",
    }
    assert doors["Open gym"]["distance_m"] == pytest.approx(55.6, abs=0.5)
    assert (doors["Front door"]["opens_by"], doors["Front door"]["credits"], doors["Front door"]["geofence"],
            doors["Front door"]["inside_geofence"]) == ("tag", 0, None, True)

    far = {d["title"]: d for d in api.get("/api/v1/doors", FAR).json()}
    assert (far["Open gym"]["inside_geofence"], far["Open gym"]["can_open_now"]) == (False, False)
    assert far["Open gym"]["reason"] == "You are 3,648 ft away from Riverside; this door opens within 500 ft."
    unknown = {d["title"]: d for d in api.get("/api/v1/doors").json()}
    assert unknown["Open gym"]["inside_geofence"] is None


def test_doors_refuses_half_a_position(api, paid_door):
    assert api.get("/api/v1/doors", {"latitude": 51.5}).status_code == 400
    assert api.get("/api/v1/doors", {"latitude": 95, "longitude": 0}).status_code == 400


def test_unlock_opens_and_answers_what_it_cost(api, paid_door, doors_backend):
    answer = post_unlock(api, paid_door)
    assert answer.status_code == 200
    body = answer.json()
    assert (body["outcome"], body["method"], body["credits"], body["visit_type"], body["door_answer"]) == (
        "opened", "payment", 2, "Open gym visit", "Unlocked!")
    assert doors_backend.calls == [(paid_door.pk, NEAR["latitude"], NEAR["longitude"])]
    assert ClientPackage.objects.get().credits_remaining == 3


def test_unlock_twice_with_one_key_charges_once(api, paid_door, doors_backend):
    first, second = post_unlock(api, paid_door, key="k1"), post_unlock(api, paid_door, key="k1")
    assert first.status_code == second.status_code == 200
    assert first.json()["attempt"] == second.json()["attempt"]
    assert ClientPackage.objects.get().credits_remaining == 3 and len(doors_backend.calls) == 1


def test_the_key_may_come_in_the_body(api, paid_door, doors_backend):
    body = {**NEAR, "idempotency_key": "body-key"}
    assert post_unlock(api, paid_door, key=None, body=body).status_code == 200
    assert post_unlock(api, paid_door, key=None, body=body).json()["credits"] == 2
    assert UnlockAttempt.objects.get().idempotency_key == "body-key"


def test_unlock_without_a_key_is_a_bad_request(api, paid_door, doors_backend):
    answer = post_unlock(api, paid_door, key=None)
    assert answer.status_code == 400 and "Idempotency-Key" in answer.json()["reason"]
    assert not UnlockAttempt.objects.exists()


def test_unlock_refused_answers_403_with_the_reason(api, paid_door, doors_backend):
    answer = post_unlock(api, paid_door, body=FAR)
    assert answer.status_code == 403
    assert answer.json()["reason"] == "You are 3,648 ft away from Riverside; this door opens within 500 ft."
    assert doors_backend.calls == [] and UnlockAttempt.objects.get().outcome == "refused"


def test_unlock_when_the_door_fails_answers_502_and_refunds(api, paid_door, doors_backend):
    doors_backend.answer = UnlockResult(False, "Lock is offline", False)
    answer = post_unlock(api, paid_door)
    assert answer.status_code == 502
    assert answer.json()["reason"] == "The door did not open (Lock is offline). Your 2 credits were refunded."
    assert answer.json()["refunded"] is True
    assert ClientPackage.objects.get().credits_remaining == 5


def test_unlock_of_an_unknown_door_is_404(api, paid_door):
    assert api.post("/api/v1/doors/999999/unlock", NEAR, format="json",
                    headers={"Idempotency-Key": "x"}).status_code == 404


def test_the_api_needs_a_member_token(paid_door, member, doors_backend, manager_client):
    anonymous = APIClient()
    assert anonymous.get("/api/v1/doors").status_code == 401
    assert manager_client.get("/api/v1/doors").status_code in (401, 403)  # a staff session is no member
    pair = member_tokens_issue(client=member)
    app = APIClient()
    app.credentials(HTTP_AUTHORIZATION=f"Bearer {pair.access}")
    assert [d["title"] for d in app.get("/api/v1/doors", NEAR).json()] == ["Open gym"]
    assert post_unlock(app, paid_door).status_code == 200


def test_an_expired_package_no_longer_lists_the_paid_door(api, paid_door):
    ClientPackage.objects.update(end=timezone.now() - timedelta(minutes=1))
    assert api.get("/api/v1/doors", NEAR).json() == []


def test_the_schema_documents_the_doors_api(manager_client):
    schema = manager_client.get("/api/schema/", {"format": "json"}).json()
    assert {"/api/v1/doors", "/api/v1/doors/{door_id}/unlock"} <= set(schema["paths"])
    unlock = schema["paths"]["/api/v1/doors/{door_id}/unlock"]["post"]
    assert {"200", "403", "502"} <= set(unlock["responses"])
