"""Door rules edited on the door's admin page, visit type hours, and the access log pages."""

from datetime import timedelta

import pytest
from django.urls import reverse

from accessctl.models import Door, DoorRules, UnlockAttempt, VisitType
from packages.models import Package
from tests.accessctl.conftest import MONDAY_2PM_UTC, visit_type_add
from tests.factories import ClientFactory, DoorFactory, LocationFactory, PackageFactory, TagFactory

pytestmark = pytest.mark.django_db


def door_form(door: Door, *, rules: dict | None = None, visit_types: list[dict] | None = None) -> dict:
    """The POST of the door's change page with these rules and visit types."""
    existing = DoorRules.objects.filter(door=door).first() if door.pk else None
    data = {
        "title": door.title, "door_id": door.door_id, "location": door.location_id,
        "access_control": door.access_control, "kisi_lock_id": door.kisi_lock_id,
        "latitude": door.latitude or "", "longitude": door.longitude or "", "is_active": "on",
        "rules-TOTAL_FORMS": 1, "rules-INITIAL_FORMS": 1 if existing else 0,
        "rules-MIN_NUM_FORMS": 1, "rules-MAX_NUM_FORMS": 1,
        "rules-0-id": existing.pk if existing else "", "rules-0-door": door.pk or "",
        "rules-0-geofence_unit": "ft", "rules-0-geofence_centre": "location",
    }
    data.update({f"rules-0-{key}": value for key, value in (rules or {}).items()})
    visits = list(door.visit_types.all()) if door.pk else []
    rows = visits + [None] * (len(visit_types or []) - len(visits))
    data.update({"visit_types-TOTAL_FORMS": len(rows), "visit_types-INITIAL_FORMS": len(visits),
                 "visit_types-MIN_NUM_FORMS": 0, "visit_types-MAX_NUM_FORMS": 1000})
    for i, (visit, given) in enumerate(zip(rows, visit_types or [{}] * len(rows), strict=True)):
        data.update({f"visit_types-{i}-id": visit.pk if visit else "", f"visit_types-{i}-door": door.pk or ""})
        data.update({f"visit_types-{i}-{key}": value for key, value in given.items()})
    return data


def change_url(door):
    return reverse("admin:accessctl_door_change", args=[door.pk])


def test_the_door_page_edits_tags_paid_access_visit_types_and_geofence(manager_client, door):
    tag = TagFactory(name="members")
    pack = PackageFactory(kind=Package.Kind.CREDIT_PACK, name="10-pack")
    page = manager_client.get(change_url(door))
    assert page.status_code == 200
    assert b"Who opens it from the app" in page.content and b"Visit types (paid access)" in page.content
    answer = manager_client.post(change_url(door), door_form(
        door, rules={"tags": [tag.pk], "paid_access": "on", "geofence": "on", "geofence_radius": 500},
        visit_types=[{"name": "Open gym", "price": 2, "packages": [pack.pk]}]))
    assert answer.status_code == 302, answer.context["errors"] if answer.context else answer
    rules = DoorRules.objects.get(door=door)
    assert [t.name for t in rules.tags.all()] == ["members"] and rules.paid_access
    assert (rules.geofence, rules.geofence_radius, rules.radius_m) == (True, 500, pytest.approx(152.4))
    visit = VisitType.objects.get(door=door)
    assert (visit.name, visit.price, [p.name for p in visit.packages.all()]) == ("Open gym", 2, ["10-pack"])


def errors_after(manager_client, door, **form) -> str:
    answer = manager_client.post(change_url(door), door_form(door, **form))
    assert answer.status_code == 200, "the page should have refused the change"
    return answer.content.decode()


def test_paid_access_needs_a_visit_type(manager_client, door):
    page = errors_after(manager_client, door, rules={"paid_access": "on"})
    assert "Paid access needs at least one visit type: add one under Visit types." in page
    assert not DoorRules.objects.get(door=door).paid_access


def test_geofencing_needs_a_positive_radius(manager_client, door):
    assert "Geofencing needs a radius above zero." in errors_after(
        manager_client, door, rules={"geofence": "on", "geofence_radius": ""})
    assert "Ensure this value is greater than or equal to 1." in errors_after(
        manager_client, door, rules={"geofence": "on", "geofence_radius": 0})


def test_geofencing_needs_coordinates_of_its_centre(manager_client, door):
    page = errors_after(manager_client, door, rules={"geofence": "on", "geofence_radius": 300,
                                                     "geofence_centre": "door"})
    assert "Geofencing needs coordinates: set the latitude and longitude of this door." in page
    bare = DoorFactory(location=LocationFactory(name="No map", latitude=None, longitude=None))
    page = errors_after(manager_client, bare, rules={"geofence": "on", "geofence_radius": 300})
    assert "set the latitude and longitude of the location No map." in page


def test_a_package_with_separate_limits_cannot_be_listed_on_a_visit_type(manager_client, door):
    separate = PackageFactory(kind=Package.Kind.SEPARATE_LIMITS, name="Classes + gym")
    page = errors_after(manager_client, door, rules={"paid_access": "on"},
                        visit_types=[{"name": "Open gym", "price": 1, "packages": [separate.pk]}])
    assert "These cannot pay for visits: Classes + gym." in page
    assert not VisitType.objects.exists()


def test_visit_type_hours_are_edited_on_its_page_and_checked(manager_client, door):
    visit = visit_type_add(door, packages=[PackageFactory(kind=Package.Kind.CREDIT_PACK)])
    url = reverse("admin:accessctl_visittype_change", args=[visit.pk])
    assert url.encode() in manager_client.get(change_url(door)).content  # the door page links to it
    form = {"door": door.pk, "name": visit.name, "price": 2, "packages": [p.pk for p in visit.packages.all()],
            "availabilities-TOTAL_FORMS": 1, "availabilities-INITIAL_FORMS": 0,
            "availabilities-MIN_NUM_FORMS": 0, "availabilities-MAX_NUM_FORMS": 1000,
            "availabilities-0-monday": "on", "availabilities-0-friday": "on",
            "availabilities-0-start_time": "18:00", "availabilities-0-end_time": "09:00"}
    refused = manager_client.post(url, form)
    assert b"The end must be after the start (00:00 for midnight)." in refused.content
    saved = manager_client.post(url, {**form, "availabilities-0-end_time": "00:00"})
    assert saved.status_code == 302 and saved["Location"] == change_url(door)
    assert visit.availability_summary() == "Mon, Fri 18:00-00:00"
    assert b"Mon, Fri 18:00-00:00" in manager_client.get(change_url(door)).content


def attempt(door, client, outcome, minutes=0, **extra):
    return UnlockAttempt.objects.create(
        door=door, client=client, idempotency_key=f"k{UnlockAttempt.objects.count()}", outcome=outcome,
        attempted_at=MONDAY_2PM_UTC + timedelta(minutes=minutes), **extra)


def test_the_door_page_shows_its_latest_unlocks_and_links_to_all(manager_client, door, member):
    attempt(door, member, "refused", reason="You do not have a tag that opens this door.")
    attempt(door, member, "opened", minutes=1, credits=2, reason="Open gym visit: 2 credits from your pack.")
    other = DoorFactory(location=door.location)
    attempt(other, member, "refused", reason="Somewhere else entirely.")
    page = manager_client.get(change_url(door)).content.decode()
    assert "You do not have a tag that opens this door." in page and "Open gym visit: 2 credits" in page
    assert "Somewhere else entirely." not in page
    link = reverse("admin:accessctl_unlockattempt_changelist") + f"?door__id__exact={door.pk}"
    assert link in page
    listed = manager_client.get(link).content.decode()
    assert "You do not have a tag" in listed and "Somewhere else entirely." not in listed


@pytest.fixture
def log(door, member):
    """Attempts at two doors of two locations by two members."""
    elsewhere = DoorFactory(title="Harbour gate", location=LocationFactory(name="Harbour"))
    grace = ClientFactory(first_name="Grace", last_name="Hopper", email="grace@example.com")
    attempt(door, member, "opened", reason="Your tag opens this door.", door_answer="Unlocked!")
    attempt(door, grace, "refused", minutes=1, reason="Not enough credits.", distance_m=12.4)
    attempt(elsewhere, member, "failed", minutes=2, reason="The door did not open (Lock is offline).",
            credits=2, refunded=True)
    return {"door": door, "elsewhere": elsewhere, "grace": grace}


def staff_page(client, **filters) -> str:
    answer = client.get("/staff/access-log/", filters)
    assert answer.status_code == 200
    return answer.content.decode()


def test_the_staff_access_log_shows_every_attempt(manager_client, log):
    page = staff_page(manager_client)
    for text in ["Your tag opens this door.", "Not enough credits.", "The door did not open (Lock is offline).",
                 "Unlocked!", "2 (refunded)", "12 m", "2026-10-05 15:00:00 BST", "Grace Hopper"]:
        assert text in page, text


@pytest.mark.parametrize(("filters", "shown"), [
    ({"outcome": "refused"}, ["Not enough credits."]),
    ({"member": "grace"}, ["Not enough credits."]),
    ({"member": "Ada Lovelace"}, ["Your tag opens this door.", "The door did not open"]),
])
def test_the_staff_access_log_filters(manager_client, log, filters, shown):
    page = staff_page(manager_client, **filters)
    every = ["Your tag opens this door.", "Not enough credits.", "The door did not open"]
    assert [text for text in every if text in page] == shown


def test_the_staff_access_log_filters_by_door_and_location(manager_client, log):
    by_door = staff_page(manager_client, door=log["door"].pk)
    assert "Harbour gate" not in by_door.split("<tbody>")[1] and "Not enough credits." in by_door
    by_location = staff_page(manager_client, location=log["elsewhere"].location_id)
    assert "The door did not open" in by_location and "Not enough credits." not in by_location


def test_the_staff_access_log_needs_a_staff_login(client, django_user_model, log):
    assert client.get("/staff/access-log/").status_code == 302
    client.force_login(django_user_model.objects.create_user("member-user", password="pw-x-12345"))
    assert client.get("/staff/access-log/").status_code == 302


@pytest.mark.parametrize("name", [
    "admin:accessctl_door_add", "admin:accessctl_unlockattempt_changelist", "admin:accessctl_tagsequence_add",
    "admin:accessctl_tagsequence_changelist", "admin:accessctl_sequencegrant_changelist",
    "admin:clients_clienttagchange_changelist",
])
def test_the_new_admin_pages_render(manager_client, log, name):
    assert manager_client.get(reverse(name)).status_code == 200


def test_a_new_door_is_saved_with_its_rules(manager_client, location):
    tag = TagFactory(name="members")
    data = door_form(Door(title="Side door", door_id="D-SIDE", location=location, access_control="disabled"),
                     rules={"tags": [tag.pk], "geofence": "on", "geofence_radius": 200})
    answer = manager_client.post(reverse("admin:accessctl_door_add"), data)
    assert answer.status_code == 302
    rules = DoorRules.objects.get(door__door_id="D-SIDE")
    assert [t.name for t in rules.tags.all()] == ["members"] and rules.geofence_radius == 200
