"""Access is computed from packages, bookings and rules; every reason counts."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accessctl.backends import DoorBackend, UnlockResult
from accessctl.models import AccessRule, KisiGroup
from accessctl.selectors import Entry, Window, access_expected, accesses_granted_by
from accessctl.services import door_test_unlock
from packages.models import Booking, ClientPackage, Package
from tests.factories import (
    BookingFactory,
    ClassSessionFactory,
    ClientFactory,
    ClientPackageFactory,
    DoorFactory,
    LocationFactory,
    PackageFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def group():
    return KisiGroup.objects.create(kisi_id="g1", name="Members")


def rule(group, reason, packages, **extra):
    made = AccessRule.objects.create(group=group, reason=reason, owner="test", **extra)
    made.packages.set(packages)
    return made


def test_active_package_gives_unbounded_access(group):
    membership = PackageFactory()
    rule(group, AccessRule.Reason.PACKAGE, [membership])
    holder = ClientPackageFactory(package=membership).client
    ClientPackageFactory(package=membership, status=ClientPackage.Status.EXPIRED)
    ClientPackageFactory(package=membership, start=timezone.now() + timedelta(days=1))
    assert access_expected() == {holder.pk: {group.pk: Window()}}


def test_booking_gives_a_window_from_an_hour_before_to_the_end(group):
    location, pack = LocationFactory(), PackageFactory(kind=Package.Kind.CREDIT_PACK)
    rule(group, AccessRule.Reason.BOOKING, [pack], location=location, minutes_before=60)
    holding = ClientPackageFactory(package=pack)
    session = ClassSessionFactory(location=location, start=timezone.now() + timedelta(minutes=29))
    BookingFactory(client=holding.client, session=session)
    window = access_expected()[holding.client_id][group.pk]
    assert window == Window(session.start - timedelta(minutes=60), session.end)


def test_cancelled_booking_or_other_location_gives_nothing(group):
    location, pack = LocationFactory(), PackageFactory(kind=Package.Kind.PAY_AS_YOU_GO)
    rule(group, AccessRule.Reason.BOOKING, [pack], location=location)
    holding = ClientPackageFactory(package=pack)
    BookingFactory(client=holding.client, session=ClassSessionFactory(location=location),
                   status=Booking.Status.CANCELLED)
    BookingFactory(client=holding.client, session=ClassSessionFactory())
    assert access_expected() == {}


def test_two_reasons_one_removed_keeps_access(group):
    membership, pack = PackageFactory(), PackageFactory(kind=Package.Kind.CREDIT_PACK)
    location = LocationFactory()
    rule(group, AccessRule.Reason.PACKAGE, [membership])
    rule(group, AccessRule.Reason.BOOKING, [pack], location=location)
    client = ClientFactory()
    member = ClientPackageFactory(client=client, package=membership)
    ClientPackageFactory(client=client, package=pack)
    BookingFactory(client=client, session=ClassSessionFactory(location=location))
    assert access_expected()[client.pk][group.pk].unbounded
    member.status = ClientPackage.Status.EXPIRED
    member.save()
    assert not access_expected()[client.pk][group.pk].unbounded  # the booking still grants


def test_scope_to_some_clients(group):
    membership = PackageFactory()
    rule(group, AccessRule.Reason.PACKAGE, [membership])
    first, second = ClientPackageFactory(package=membership), ClientPackageFactory(package=membership)
    assert set(access_expected(client_ids=[second.client_id])) == {second.client_id}
    assert set(access_expected()) == {first.client_id, second.client_id}


class AnsweringDoors(DoorBackend):
    def unlock(self, door, *, latitude=None, longitude=None):
        return UnlockResult(True, f"Unlocked {door.kisi_lock_id}", online=True)


def test_test_unlock_goes_through_the_configured_backend(settings):
    settings.ACCESS_DOOR_BACKENDS = {"kisi": "tests.accessctl.test_access_expected.AnsweringDoors"}
    door = DoorFactory(access_control="kisi", kisi_lock_id="77")
    assert door_test_unlock(door=door) == UnlockResult(True, "Unlocked 77", online=True)
    assert not door_test_unlock(door=DoorFactory()).ok  # access control disabled


def test_an_entry_is_granted_by_the_owners_whose_rules_gave_access_at_that_moment(group):
    membership, pack, location = PackageFactory(), PackageFactory(kind=Package.Kind.CREDIT_PACK), LocationFactory()
    rule(group, AccessRule.Reason.PACKAGE, [membership])  # owner "test"
    AccessRule.objects.create(group=group, reason=AccessRule.Reason.BOOKING, owner="other",
                              location=location, minutes_before=60).packages.set([pack])
    member = ClientPackageFactory(package=membership).client
    booker = ClientPackageFactory(package=pack).client
    session = ClassSessionFactory(location=location, start=timezone.now() + timedelta(minutes=30))
    BookingFactory(client=booker, session=session)
    now = timezone.now()
    entries = [Entry(1, member.pk, now), Entry(2, booker.pk, now), Entry(3, ClientFactory().pk, now),
               Entry(4, booker.pk, session.start - timedelta(minutes=90))]  # before the booking's window
    assert accesses_granted_by(entries=entries, owners=["test"]) == {1}
    assert accesses_granted_by(entries=entries, owners=["other"]) == {2}
    assert accesses_granted_by(entries=entries, owners=["test", "other"]) == {1, 2}
