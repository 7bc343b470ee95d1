"""The home page: who, home club, packages with credits, bookings with their door window, accesses."""

from datetime import timedelta

from django.utils import timezone

from accessctl.models import AccessRule, DoorAccess, KisiGroup, TagSequence
from packages.models import Package
from tests.accessctl.conftest import held
from tests.factories import BookingFactory, ClassSessionFactory, TagFactory


def test_home_shows_packages_bookings_with_door_windows_and_accesses(logged_in, member, location, door):
    held(member, Package.Kind.CREDIT_PACK, credits=8, name="10-visit pack")
    held(member, Package.Kind.MEMBERSHIP, name="Monthly membership")
    start = (timezone.now() + timedelta(days=1)).replace(hour=14, minute=0, second=0, microsecond=0)
    spin = ClassSessionFactory(name="Spin", location=location, start=start, end=start + timedelta(minutes=45))
    yoga = ClassSessionFactory(name="Yoga", location=location, start=start + timedelta(hours=3),
                               end=start + timedelta(hours=4))
    BookingFactory(client=member, session=spin)
    BookingFactory(client=member, session=yoga)
    TagSequence.objects.create(tag=TagFactory(name="studio"), class_names="Spin", minutes_before=30)
    DoorAccess.objects.create(client=member, door=door, accessed_at=timezone.now() - timedelta(hours=2),
                              source="gatehouse", source_ref="1")

    page = logged_in.get("/portal/").content.decode()

    assert "Hello, Ada" in page and "home club Riverside" in page
    assert "10-visit pack" in page and "8 credits left" in page and "Monthly membership" in page
    local_open = timezone.localtime(start - timedelta(minutes=30), location.zone)
    assert f"Doors open for you from {local_open:%H:%M}." in page
    assert page.count("Doors open for you") == 1  # Yoga opens no door early
    assert "Open gym ·" in page


def test_a_door_system_booking_rule_opens_for_holders_of_its_packages(logged_in, member, location):
    pack = held(member, Package.Kind.CREDIT_PACK, credits=3, name="Class pack")
    group = KisiGroup.objects.create(kisi_id=9, name="Bookers")
    rule = AccessRule.objects.create(group=group, reason=AccessRule.Reason.BOOKING, minutes_before=60, owner="t")
    rule.packages.add(pack.package)
    start = (timezone.now() + timedelta(days=2)).replace(hour=9, minute=0, second=0, microsecond=0)
    BookingFactory(client=member, session=ClassSessionFactory(name="HIIT", location=location, start=start,
                                                              end=start + timedelta(hours=1)))
    local_open = timezone.localtime(start - timedelta(hours=1), location.zone)
    assert f"Doors open for you from {local_open:%H:%M}." in logged_in.get("/portal/").content.decode()


def test_an_empty_home_says_so(logged_in):
    page = logged_in.get("/portal/").content.decode()
    assert "No active membership or package." in page and "No upcoming bookings." in page
    assert "No door accesses yet." in page
