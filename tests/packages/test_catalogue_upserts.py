"""Packages from a vendor catalogue, and bookings a complete vendor listing no longer has."""

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.connectors import CatalogueEntry
from packages.models import Booking, Package
from packages.services import bookings_cancel_missing, packages_upsert
from tests.factories import BookingFactory, ClassSessionFactory, PackageFactory, TagFactory

pytestmark = pytest.mark.django_db


def test_packages_upsert_creates_updates_and_keeps_the_clubs_own_fields():
    old = PackageFactory(alt_id="v_1", name="Old name", kind="membership")
    old.tags.add(TagFactory(name="members"))
    PackageFactory(alt_id="v_2", name="Pack", kind="credit_pack", credits=5)
    result = packages_upsert(entries=[
        CatalogueEntry(alt_id="v_1", name="Unlimited", kind="unlimited"),
        CatalogueEntry(alt_id="v_2", name="Pack", kind="credit_pack", credits=5),
        CatalogueEntry(alt_id="v_3", name="Combined", kind="combined_limit", credits=None),
    ])
    assert (result.created, result.updated, result.unchanged) == (1, 1, 1)
    old.refresh_from_db()
    assert (old.name, old.kind) == ("Unlimited", "unlimited") and old.tags.count() == 1
    assert Package.objects.get(alt_id="v_3").kind == "combined_limit"
    assert set(result.ids) == {"v_1", "v_2", "v_3"}


def test_bookings_cancel_missing_touches_only_its_window_prefix_and_source():
    now = timezone.now()
    inside = ClassSessionFactory(start=now + timedelta(hours=2))
    later = ClassSessionFactory(start=now + timedelta(days=30))
    seen = BookingFactory(session=inside, source="v-1", external_id="booking:1")
    gone = BookingFactory(session=inside, source="v-1", external_id="booking:2")
    appointment = BookingFactory(session=inside, source="v-1", external_id="appointment:3")
    outside = BookingFactory(session=later, source="v-1", external_id="booking:4")
    foreign = BookingFactory(session=inside, source="v-2", external_id="booking:5")
    clients = bookings_cancel_missing(source="v-1", prefix="booking:", start_from=now,
                                      start_until=now + timedelta(days=14), seen={"booking:1"})
    assert clients == {gone.client_id}
    status = dict(Booking.objects.values_list("pk", "status"))
    assert status[gone.pk] == "cancelled"
    assert {status[b.pk] for b in (seen, appointment, outside, foreign)} == {"booked"}
