"""The decision a member gets at a door: tags, paid visits, availability, geofence, reasons."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from accessctl.decisions import door_decide, doors_openable
from accessctl.models import Door, DoorRules
from clients.models import Location
from packages.models import ClientPackage, Package
from tests.accessctl.conftest import LAT, LON, MONDAY_2PM_UTC, held, rules_set, visit_type_add
from tests.factories import ClientPackageFactory, DoorFactory, PackageFactory, TagFactory

pytestmark = pytest.mark.django_db
METRES_PER_DEGREE = 111_195.08  # of latitude, on the mean Earth radius the haversine uses


def decide(member, door, at=MONDAY_2PM_UTC, lat=None, lon=None):
    return door_decide(client=member, door=door, latitude=lat, longitude=lon, at=at)


def north_of(lat, lon, metres):
    """A position `metres` due north of (lat, lon)."""
    return float(lat) + metres / METRES_PER_DEGREE, float(lon)


@pytest.fixture
def paid_door(door):
    rules_set(door, paid_access=True)
    return door


@pytest.mark.parametrize(("kind", "credits", "allowed", "charged"), [
    (Package.Kind.CREDIT_PACK, 5, True, 2),
    (Package.Kind.COMBINED_LIMIT, 5, True, 2),
    (Package.Kind.UNLIMITED, None, True, 0),
    (Package.Kind.SEPARATE_LIMITS, 5, False, 0),
    (Package.Kind.MEMBERSHIP, 5, False, 0),
    (Package.Kind.PAY_AS_YOU_GO, 5, False, 0),
])
def test_each_package_kind_pays_a_visit_or_not(paid_door, member, kind, credits, allowed, charged):
    package = held(member, kind, credits=credits, name="The package")
    visit_type_add(paid_door, packages=[package.package], price=2)
    decision = decide(member, paid_door)
    assert (decision.allowed, decision.credits) == (allowed, charged)
    if allowed:
        assert decision.method == "payment" and decision.client_package == package
    else:
        assert decision.reason.startswith("Your The package cannot pay for visits to this door.")


def test_unlimited_subscription_pays_nothing_and_is_preferred(paid_door, member):
    pack = held(member, Package.Kind.CREDIT_PACK, credits=10)
    unlimited = held(member, Package.Kind.UNLIMITED, name="Unlimited")
    visit_type_add(paid_door, packages=[pack.package, unlimited.package], price=3)
    decision = decide(member, paid_door)
    assert (decision.client_package, decision.credits) == (unlimited, 0)
    assert decision.reason == "Open gym visit: covered by your Unlimited."


def test_the_credit_pack_ending_first_pays(paid_door, member):
    later = held(member, Package.Kind.CREDIT_PACK, credits=10, end=MONDAY_2PM_UTC + timedelta(days=30))
    sooner = held(member, Package.Kind.CREDIT_PACK, credits=10, end=MONDAY_2PM_UTC + timedelta(days=3))
    visit_type_add(paid_door, packages=[later.package, sooner.package])
    assert decide(member, paid_door).client_package == sooner


@pytest.mark.parametrize("change", [
    {"status": ClientPackage.Status.EXPIRED},
    {"status": ClientPackage.Status.CANCELLED},
    {"end": MONDAY_2PM_UTC - timedelta(minutes=1)},
    {"start": MONDAY_2PM_UTC + timedelta(minutes=1)},
], ids=["expired", "cancelled", "ended", "not-started"])
def test_a_package_not_active_now_does_not_pay(paid_door, member, change):
    package = held(member, Package.Kind.CREDIT_PACK, credits=10)
    ClientPackage.objects.filter(pk=package.pk).update(**change)
    visit_type_add(paid_door, packages=[package.package])
    decision = decide(member, paid_door)
    assert not decision.allowed
    assert decision.reason.startswith("You have no membership or credits that pay for visits")


def test_not_enough_credits_says_what_the_visit_costs(paid_door, member):
    package = held(member, Package.Kind.CREDIT_PACK, credits=1, name="5-visit pack")
    visit_type_add(paid_door, packages=[package.package], price=2)
    decision = decide(member, paid_door)
    assert not decision.allowed
    assert decision.reason == "Not enough credits: Open gym visit costs 2 credits and your 5-visit pack has 1 left."


def test_a_package_not_listed_for_the_visit_type_names_the_ones_that_are(paid_door, member):
    held(member, Package.Kind.CREDIT_PACK, credits=10, name="Swim pack")
    listed = PackageFactory(kind=Package.Kind.CREDIT_PACK, name="Gym pack")
    visit_type_add(paid_door, packages=[listed])
    assert decide(member, paid_door).reason == (
        "You have no membership or credits that pay for visits to this door. You need one of: Gym pack.")


def test_a_tag_opens_without_paying_even_with_paid_access_on(paid_door, member):
    tag = TagFactory(name="members")
    rules_set(paid_door, tags=[tag])
    member.tags.add(tag)
    package = held(member, Package.Kind.CREDIT_PACK, credits=10)
    visit_type_add(paid_door, packages=[package.package])
    decision = decide(member, paid_door)
    assert (decision.allowed, decision.method, decision.credits) == (True, "tag", 0)


def test_a_tag_from_an_active_package_opens_but_not_from_an_expired_one(door, member):
    tag = TagFactory(name="gym-access")
    rules_set(door, tags=[tag])
    package = PackageFactory(name="Gold")
    package.tags.add(tag)
    held_package = ClientPackageFactory(client=member, package=package, start=datetime(2026, 1, 1, tzinfo=UTC))
    assert decide(member, door).method == "tag"
    ClientPackage.objects.filter(pk=held_package.pk).update(status=ClientPackage.Status.EXPIRED)
    decision = decide(member, door)
    assert not decision.allowed and decision.reason == "You do not have a tag that opens this door."


def test_a_door_without_tags_and_with_paid_access_opens_by_paying(paid_door, member):
    package = held(member, Package.Kind.CREDIT_PACK, credits=4)
    visit_type_add(paid_door, packages=[package.package], price=1)
    decision = decide(member, paid_door)
    assert (decision.allowed, decision.method, decision.credits) == (True, "payment", 1)


def test_a_door_without_tags_or_paid_access_is_not_opened_from_the_app(door, member):
    assert decide(member, door).reason == "This door cannot be opened from the app."


def test_paid_access_without_visit_types_is_refused_clearly(paid_door, member):
    assert decide(member, paid_door).reason == "Paid visits to this door are not set up yet."


def test_a_disabled_door_is_not_opened_from_the_app(door, member):
    door.access_control, door.kisi_lock_id = "disabled", ""
    door.save()
    rules_set(door, paid_access=True)
    assert decide(member, door).reason == "This door cannot be opened from the app."


# Availability, in the location's time zone ------------------------------------------------------

@pytest.fixture
def weekday_hours(paid_door, member):
    """Paid visits Mon-Fri 09:00-17:00 local; the member holds a 10-credit pack."""
    package = held(member, Package.Kind.CREDIT_PACK, credits=10)
    visit_type_add(paid_door, packages=[package.package], hours=[("01234", "09:00", "17:00")])
    return paid_door


@pytest.mark.parametrize(("utc", "allowed"), [
    (datetime(2026, 10, 5, 8, 0), True),  # Monday 09:00 BST: the start is included
    (datetime(2026, 10, 5, 7, 59), False),  # 08:59 BST
    (datetime(2026, 10, 5, 15, 59), True),  # 16:59 BST
    (datetime(2026, 10, 5, 16, 0), False),  # 17:00 BST: the end is not
    (datetime(2026, 10, 10, 10, 0), False),  # Saturday
])
def test_availability_edges_in_london(weekday_hours, member, utc, allowed):
    decision = decide(member, weekday_hours, at=utc.replace(tzinfo=UTC))
    assert decision.allowed is allowed
    if not allowed:
        assert decision.reason == ("Paid visits to this door are not available now (Open gym visit: "
                                   "Mon-Fri 09:00-17:00, Europe/London time).")


def test_the_same_hours_follow_the_location_time_zone(weekday_hours, member):
    at = datetime(2026, 10, 5, 14, 0, tzinfo=UTC)  # 15:00 in London, 10:00 in New York
    assert decide(member, weekday_hours, at=at).allowed
    Location.objects.filter(pk=weekday_hours.location_id).update(time_zone="America/New_York")
    assert decide(member, weekday_hours, at=at).allowed
    at = datetime(2026, 10, 5, 12, 30, tzinfo=UTC)  # 13:30 in London, 08:30 in New York
    assert not decide(member, weekday_hours, at=at).allowed


def test_a_range_ending_at_midnight_covers_the_last_minute_but_not_the_next_day(paid_door, member):
    package = held(member, Package.Kind.CREDIT_PACK, credits=10)
    visit_type_add(paid_door, packages=[package.package], hours=[("0", "22:00", "00:00")])
    assert decide(member, paid_door, at=datetime(2026, 10, 5, 22, 59, 59, tzinfo=UTC)).allowed  # 23:59:59 BST
    assert not decide(member, paid_door, at=datetime(2026, 10, 5, 23, 0, tzinfo=UTC)).allowed  # Tue 00:00


def test_hours_on_the_day_clocks_go_forward(paid_door, member):
    package = held(member, Package.Kind.CREDIT_PACK, credits=10)
    visit_type_add(paid_door, packages=[package.package], hours=[("6", "09:00", "10:00")])
    # Sunday 29 March 2026: London moves to BST at 01:00 UTC, so 08:30 UTC is 09:30 local.
    assert decide(member, paid_door, at=datetime(2026, 3, 29, 8, 30, tzinfo=UTC)).allowed
    assert not decide(member, paid_door, at=datetime(2026, 3, 29, 9, 30, tzinfo=UTC)).allowed


def test_several_availabilities_of_one_visit_type_add_up(paid_door, member):
    package = held(member, Package.Kind.CREDIT_PACK, credits=10)
    visit_type_add(paid_door, packages=[package.package], hours=[("0", "06:00", "08:00"), ("0", "18:00", "20:00")])
    monday = datetime(2026, 10, 5, tzinfo=UTC)
    assert [decide(member, paid_door, at=monday + timedelta(hours=h)).allowed for h in (5, 12, 17)] == [
        True, False, True]  # 06:00, 13:00, 18:00 BST


# Geofence -------------------------------------------------------------------------------------

@pytest.fixture
def tagged(door, member):
    tag = TagFactory(name="members")
    member.tags.add(tag)
    rules_set(door, tags=[tag])
    return door


@pytest.mark.parametrize(("radius", "unit", "metres", "inside"), [
    (500, "ft", 150.0, True),  # 500 ft = 152.4 m
    (500, "ft", 155.0, False),
    (100, "m", 99.0, True),
    (100, "m", 101.0, False),
])
def test_geofence_just_inside_and_just_outside(tagged, member, radius, unit, metres, inside):
    rules_set(tagged, geofence=True, geofence_radius=radius, geofence_unit=unit)
    lat, lon = north_of(LAT, LON, metres)
    decision = decide(member, tagged, lat=lat, lon=lon)
    assert decision.allowed is inside and decision.inside_geofence is inside
    assert decision.distance_m == pytest.approx(metres, abs=0.5)
    if not inside:
        shown = f"{round(metres / 0.3048):,} ft" if unit == "ft" else f"{round(metres)} m"
        assert decision.reason == f"You are {shown} away from Riverside; this door opens within {radius} {unit}."


def test_geofence_measured_from_the_door_itself(tagged, member):
    far_lat, far_lon = north_of(LAT, LON, 2000)
    Door.objects.filter(pk=tagged.pk).update(latitude=Decimal(f"{far_lat:.6f}"), longitude=LON)
    rules_set(tagged, geofence=True, geofence_radius=100, geofence_unit="m", geofence_centre="door")
    assert decide(member, tagged, lat=far_lat, lon=far_lon).allowed
    assert not decide(member, tagged, lat=float(LAT), lon=float(LON)).allowed


def test_geofence_without_the_members_position_asks_for_it(tagged, member):
    rules_set(tagged, geofence=True, geofence_radius=300, geofence_unit="ft")
    decision = decide(member, tagged)
    assert not decision.allowed and decision.inside_geofence is None
    assert decision.reason == "Turn on location: this door opens within 300 ft of Riverside."


def test_a_member_without_access_far_away_is_told_about_access_not_distance(door, member):
    rules_set(door, tags=[TagFactory(name="staff")], geofence=True, geofence_radius=100, geofence_unit="m")
    lat, lon = north_of(LAT, LON, 5000)
    decision = decide(member, door, lat=lat, lon=lon)
    assert decision.reason == "You do not have a tag that opens this door." and not decision.entitled


def test_doors_openable_lists_only_doors_the_member_may_open_with_cost_and_geofence(paid_door, member, location):
    package = held(member, Package.Kind.CREDIT_PACK, credits=10)
    visit_type_add(paid_door, packages=[package.package], price=3)
    rules_set(paid_door, geofence=True, geofence_radius=100, geofence_unit="m")
    staff_door = DoorFactory(title="Staff room", location=location, access_control="kisi", kisi_lock_id="9")
    DoorRules.objects.create(door=staff_door).tags.add(TagFactory(name="staff"))
    lat, lon = north_of(LAT, LON, 500)
    [(shown, decision)] = doors_openable(client=member, latitude=lat, longitude=lon, at=MONDAY_2PM_UTC)
    assert shown == paid_door
    assert (decision.credits, decision.method, decision.inside_geofence) == (3, "payment", False)
    assert not decision.allowed
    assert decision.reason == "You are 500 m away from Riverside; this door opens within 100 m."
