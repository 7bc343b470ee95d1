"""A busy member's door decision reads a fixed number of queries, whatever they hold."""

from datetime import timedelta

import pytest

from accessctl.decisions import door_decide, doors_openable
from accessctl.models import DoorRules
from packages.models import Booking, Package
from tests.accessctl.conftest import LAT, LON, MONDAY_2PM_UTC, held, rules_set, visit_type_add
from tests.factories import ClassSessionFactory, DoorFactory, TagFactory

pytestmark = pytest.mark.django_db
KINDS = [Package.Kind.CREDIT_PACK, Package.Kind.UNLIMITED, Package.Kind.COMBINED_LIMIT,
         Package.Kind.SEPARATE_LIMITS, Package.Kind.MEMBERSHIP]


def busy(member, location, packages: int):
    """`packages` active packages (every kind) and 50 bookings around now, as the benchmark's member."""
    holdings = [held(member, KINDS[i % len(KINDS)], credits=i, name=f"Package {i:02}",
                     end=MONDAY_2PM_UTC + timedelta(days=i + 1)) for i in range(packages)]
    member.tags.add(*(TagFactory(name=f"own-{i}") for i in range(3)))
    for i in range(50):
        session = ClassSessionFactory(location=location, start=MONDAY_2PM_UTC + timedelta(hours=i - 25),
                                      end=MONDAY_2PM_UTC + timedelta(hours=i - 24))
        Booking.objects.create(session=session, client=member)
    return holdings


def paid_door_with_visits(door, holdings):
    rules_set(door, paid_access=True, geofence=True, geofence_radius=1000, geofence_unit="m",
              tags=[TagFactory(name="staff")])
    for price in (1, 2, 3):
        visit_type_add(door, packages=[h.package for h in holdings[price:price + 12]], price=price,
                       name=f"Visit {price}", hours=[("01234", "06:00", "22:00"), ("56", "08:00", "00:00")])


@pytest.mark.parametrize("packages", [2, 20])
def test_a_paid_decision_reads_two_queries_however_many_packages_and_bookings(
        door, member, location, packages, django_assert_max_num_queries):
    holdings = busy(member, location, packages)
    paid_door_with_visits(door, holdings)
    with django_assert_max_num_queries(2):  # the door with its tag answer and visit types, the packages listed
        decision = door_decide(client=member, door=door, latitude=LAT, longitude=LON, at=MONDAY_2PM_UTC)
    assert (decision.allowed, decision.method, decision.credits) == (True, "payment", 0)
    assert decision.client_package == holdings[1] and decision.reason == "Visit 1: covered by your Package 01."


def test_a_tag_decision_reads_one_query(door, member, location, django_assert_max_num_queries):
    holdings = busy(member, location, 20)
    paid_door_with_visits(door, holdings)
    DoorRules.objects.get(door=door).tags.add(*member.tags.all())
    with django_assert_max_num_queries(1):
        decision = door_decide(client=member, door=door, latitude=LAT, longitude=LON, at=MONDAY_2PM_UTC)
    assert (decision.allowed, decision.method) == (True, "tag")


def test_a_refusal_naming_the_packages_that_pay_reads_three_queries(door, member, location,
                                                                   django_assert_max_num_queries):
    holdings = busy(member, location, 20)
    paid_door_with_visits(door, holdings[3:5])  # Visit 1 lists only Package 04, a membership
    with django_assert_max_num_queries(3):
        decision = door_decide(client=member, door=door, latitude=LAT, longitude=LON, at=MONDAY_2PM_UTC)
    assert not decision.allowed
    assert decision.reason == "Your Package 04 cannot pay for visits to this door."


def test_the_door_list_reads_three_queries_for_ten_doors(door, member, location, django_assert_max_num_queries):
    holdings = busy(member, location, 20)
    doors = [door] + [DoorFactory(title=f"Door {i}", location=location, access_control="kisi",
                                  kisi_lock_id=str(100 + i)) for i in range(9)]
    for other in doors[1:]:
        DoorRules.objects.create(door=other)
    for each in doors:
        paid_door_with_visits(each, holdings)
    with django_assert_max_num_queries(3):
        offers = doors_openable(client=member, latitude=LAT, longitude=LON, at=MONDAY_2PM_UTC)
    assert [d for d, _ in offers] == sorted(doors, key=lambda d: d.title)
    assert {(o.allowed, o.credits, o.client_package) for _, o in offers} == {(True, 0, holdings[1])}


def test_each_decision_reads_what_holds_at_its_moment(door, member, location, django_assert_max_num_queries):
    """The decision's queries are built once per connection; their answers are read every time."""
    from accessctl.models import VisitType

    holdings = busy(member, location, 20)
    paid_door_with_visits(door, holdings)
    first = door_decide(client=member, door=door, latitude=LAT, longitude=LON, at=MONDAY_2PM_UTC)
    assert first.reason == "Visit 1: covered by your Package 01."
    VisitType.objects.filter(door=door, price=1).delete()
    holdings[1].delete()  # the unlimited package that covered Visit 1
    with django_assert_max_num_queries(2):
        second = door_decide(client=member, door=door, latitude=LAT, longitude=LON, at=MONDAY_2PM_UTC)
    assert (second.visit_type.name, second.client_package, second.credits) == ("Visit 2", holdings[6], 0)
    later = door_decide(client=member, door=door, latitude=LAT, longitude=LON,
                        at=MONDAY_2PM_UTC + timedelta(days=7, hours=2))  # Package 06 has ended
    assert (later.visit_type.name, later.client_package, later.credits) == ("Visit 2", holdings[11], 0)
    DoorRules.objects.get(door=door).tags.add(*member.tags.all())
    assert door_decide(client=member, door=door, latitude=LAT, longitude=LON, at=MONDAY_2PM_UTC).method == "tag"
