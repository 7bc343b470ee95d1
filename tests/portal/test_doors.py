"""The portal's doors: why each opens or not, Open with the position, paid doors confirmed and paid once."""

import re

import pytest

from accessctl.models import DoorAccess, DoorRules, TagSequence, UnlockAttempt
from packages.models import ClientPackage, Package
from tests.accessctl.conftest import LAT, LON, held, rules_set, visit_type_add
from tests.factories import ClientFactory, DoorFactory, TagFactory

NEAR = {"latitude": f"{float(LAT) + 0.0005:.6f}", "longitude": f"{float(LON):.6f}"}  # about 56 m north
FAR = {"latitude": f"{float(LAT) + 0.01:.6f}", "longitude": f"{float(LON):.6f}"}  # about 1.1 km north


@pytest.fixture
def paid_door(door, member):
    """Paid access, 2 credits a visit from a 5-credit pack, any time; geofence 500 ft."""
    rules_set(door, paid_access=True, geofence=True, geofence_radius=500, geofence_unit="ft")
    package = held(member, Package.Kind.CREDIT_PACK, credits=5, name="5-visit pack")
    visit_type_add(door, packages=[package.package], price=2)
    return door


@pytest.fixture
def tag_door(location, member):
    """The front door opens with the tag a monthly membership gives."""
    tag = TagFactory(name="members")
    monthly = held(member, Package.Kind.MEMBERSHIP, name="Monthly membership")
    monthly.package.tags.add(tag)
    front = DoorFactory(title="Front door", location=location, access_control="kisi", kisi_lock_id="1")
    DoorRules.objects.create(door=front).tags.add(tag)
    return front


def open_door(browser, door, key="tap-1", **extra):
    return browser.post(f"/portal/doors/{door.pk}/open", {"key": key, **extra})


def answer_of(browser, response) -> str:
    assert response.status_code == 302 and "/portal/doors/attempts/" in response["Location"]
    return browser.get(response["Location"]).content.decode()


def test_doors_say_why_each_opens_and_why_others_do_not(logged_in, paid_door, tag_door, location):
    staff_room = DoorFactory(title="Staff room", location=location, access_control="kisi", kisi_lock_id="2")
    DoorRules.objects.create(door=staff_room).tags.add(TagFactory(name="staff"))
    DoorFactory(title="Plant room", location=location)  # not open to the app: not listed at all

    page = logged_in.get("/portal/doors/").content.decode()

    assert "Opens with your Monthly membership." in page
    assert re.search(r'Open gym <span class="muted">· Riverside</span> <span class="price">2 credits</span>', page)
    assert "Paid visit (Open gym visit), from your 5-visit pack." in page
    assert "Turn on location: this door opens within 500 ft of Riverside." in page
    assert f'href="/portal/doors/{paid_door.pk}/confirm"' in page  # a paid door asks first
    assert "Staff room" in page and "You do not have a tag that opens this door." in page
    assert "Plant room" not in page
    keys = re.findall(r'name="key" value="([0-9a-f]{32})"', page)
    assert len(keys) == 1 and keys != re.findall(r'name="key" value="([0-9a-f]{32})"',
                                                 logged_in.get("/portal/doors/").content.decode())


def test_a_booking_tag_loan_is_the_reason_shown(logged_in, member, location):
    tag = TagFactory(name="spin-access")
    door = DoorFactory(title="Studio", location=location, access_control="kisi", kisi_lock_id="3")
    DoorRules.objects.create(door=door).tags.add(tag)
    sequence = TagSequence.objects.create(tag=tag, class_names="Spin", minutes_before=30)
    member.tags.add(tag)
    from django.utils import timezone

    member.sequence_grants.create(sequence=sequence, tag=tag, session_name="Spin", session_start=timezone.now(),
                                  added_at=timezone.now(), tag_added=True)
    assert "Opens with your booking of Spin." in logged_in.get("/portal/doors/").content.decode()


def test_open_a_tag_door_without_javascript(logged_in, tag_door, doors_backend, member):
    page = answer_of(logged_in, open_door(logged_in, tag_door))
    assert "Opened." in page
    assert doors_backend.calls == [(tag_door.pk, None, None)]
    assert DoorAccess.objects.get(client=member).door == tag_door


def test_outside_the_geofence_the_refusal_says_how_far_in_red(logged_in, paid_door, doors_backend):
    page = answer_of(logged_in, open_door(logged_in, paid_door, confirmed="1", **FAR))
    assert ('<p class="refused" role="alert">You are 3,648 ft away from Riverside; this door opens within 500 ft.'
            in page)
    assert doors_backend.calls == [] and ClientPackage.objects.get().credits_remaining == 5


def test_a_paid_door_is_confirmed_with_its_price_then_paid_once_when_pressed_twice(
        logged_in, paid_door, doors_backend):
    unconfirmed = open_door(logged_in, paid_door, **NEAR)
    assert unconfirmed["Location"] == f"/portal/doors/{paid_door.pk}/confirm"
    assert not UnlockAttempt.objects.exists()

    confirm = logged_in.get(unconfirmed["Location"]).content.decode()
    assert "Pay 2 credits to open Open gym?" in confirm
    assert "paid from your 5-visit pack (5 left)" in confirm
    key = re.search(r'name="key" value="([0-9a-f]{32})"', confirm).group(1)
    assert 'name="confirmed" value="1"' in confirm and "data-geofence" in confirm

    first = open_door(logged_in, paid_door, key=key, confirmed="1", **NEAR)
    second = open_door(logged_in, paid_door, key=key, confirmed="1", **NEAR)
    assert first["Location"] == second["Location"]
    answer = answer_of(logged_in, second)
    assert "Your 5-visit pack has 3 credits left." in answer and "You were 182 ft from Riverside." in answer
    assert len(doors_backend.calls) == 1 and ClientPackage.objects.get().credits_remaining == 3


def test_not_enough_credits_is_the_answer(logged_in, paid_door, member):
    ClientPackage.objects.filter(client=member).update(credits_remaining=1)
    page = logged_in.get("/portal/doors/").content.decode()
    assert "Not enough credits: Open gym visit costs 2 credits and your 5-visit pack has 1 left." in page
    assert logged_in.get(f"/portal/doors/{paid_door.pk}/confirm")["Location"] == "/portal/doors/"


def test_a_door_that_fails_refunds_and_says_so(logged_in, paid_door, doors_backend):
    from accessctl.backends import UnlockResult

    doors_backend.answer = UnlockResult(False, "Lock is offline", False)
    page = answer_of(logged_in, open_door(logged_in, paid_door, confirmed="1", **NEAR))
    assert "The door did not open (Lock is offline). Your 2 credits were refunded." in page
    assert ClientPackage.objects.get().credits_remaining == 5


@pytest.mark.parametrize("body", [
    {"key": ""}, {"key": "k" * 65}, {"key": "k", "latitude": "51.5"},
    {"key": "k", "latitude": "95", "longitude": "0"}, {"key": "k", "latitude": "nan", "longitude": "0"},
])
def test_a_bad_open_form_is_a_400(logged_in, tag_door, doors_backend, body):
    assert logged_in.post(f"/portal/doors/{tag_door.pk}/open", body).status_code == 400
    assert doors_backend.calls == []


def test_another_members_answer_is_not_found(logged_in, tag_door, location):
    other = ClientFactory(home_location=location)
    theirs = UnlockAttempt.objects.create(client=other, door=tag_door, idempotency_key="x",
                                          attempted_at="2026-01-01T00:00:00Z", outcome="opened")
    assert logged_in.get(f"/portal/doors/attempts/{theirs.pk}/").status_code == 404
    assert logged_in.post("/portal/doors/999999/open", {"key": "k"}).status_code == 404


def test_doors_need_a_logged_in_member(client, tag_door):
    assert client.get("/portal/doors/")["Location"] == "/portal/login?next=%2Fportal%2Fdoors%2F"
    assert client.post(f"/portal/doors/{tag_door.pk}/open", {"key": "k"}).status_code == 302


def test_a_members_own_tag_is_named(logged_in, member, location):
    tag = TagFactory(name="staff")
    member.tags.add(tag)
    door = DoorFactory(title="Staff room", location=location, access_control="kisi", kisi_lock_id="5")
    DoorRules.objects.create(door=door).tags.add(tag)
    assert "Opens with your tag staff." in logged_in.get("/portal/doors/").content.decode()
