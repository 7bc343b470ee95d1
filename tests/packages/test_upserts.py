"""Bulk upserts of client packages, sessions and bookings: keyed, idempotent, constant queries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from packages.models import Booking, ClientPackage
from packages.records import BookingRecord, ClassSessionRecord, ClientPackageRecord
from packages.services import (
    bookings_upsert,
    class_sessions_upsert,
    client_packages_expire,
    client_packages_upsert,
)
from tests.factories import ClientFactory, LocationFactory, PackageFactory

pytestmark = pytest.mark.django_db


def records(n, package, start, clients):
    return [ClientPackageRecord(alt_id=f"ref{i}", client_id=clients[i % len(clients)].pk,
                                package_id=package.pk, start=start) for i in range(n)]


def test_client_packages_create_update_and_skip_unchanged():
    package, start = PackageFactory(), timezone.now().replace(microsecond=0)
    clients = ClientFactory.create_batch(3)
    first = client_packages_upsert(source="v-1", records=records(3, package, start, clients))
    assert (first.created, first.updated, first.unchanged) == (3, 0, 0)
    changed = records(3, package, start, clients)
    changed[1] = ClientPackageRecord(**{**changed[1].__dict__, "end": start + timedelta(days=30)})
    second = client_packages_upsert(source="v-1", records=changed)
    assert (second.created, second.updated, second.unchanged) == (0, 1, 2)
    assert second.changed_client_ids == {clients[1].pk}
    assert ClientPackage.objects.get(alt_id="ref1").end == start + timedelta(days=30)
    assert set(second.ids) == {"ref0", "ref1", "ref2"}


def test_client_package_upsert_takes_a_constant_number_of_queries():
    package, start = PackageFactory(), timezone.now()
    clients = ClientFactory.create_batch(5)
    counts = []
    for n in (10, 60):  # SQLite splits inserts above ~90 rows; PostgreSQL does not
        with CaptureQueriesContext(connection) as queries:
            client_packages_upsert(source=f"v-{n}", records=records(n, package, start, clients))
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_expire_touches_only_active_packages_of_that_source():
    package, start = PackageFactory(), timezone.now()
    clients = ClientFactory.create_batch(2)
    client_packages_upsert(source="v-1", records=records(2, package, start, clients))
    assert client_packages_expire(source="v-1", alt_ids=["ref0"]) == {clients[0].pk}
    assert ClientPackage.objects.get(alt_id="ref0").status == ClientPackage.Status.EXPIRED
    assert client_packages_expire(source="v-2", alt_ids=["ref1"]) == set()


def test_bookings_follow_their_sessions_and_attendance_sticks():
    location, client = LocationFactory(), ClientFactory()
    start = timezone.now() + timedelta(hours=2)
    class_sessions_upsert(source="g-1", records=[
        ClassSessionRecord("s1", "Spin", location.pk, start, start + timedelta(hours=1))])
    bookings_upsert(source="g-1", records=[BookingRecord("b1", "s1", client.pk)])
    Booking.objects.filter(external_id="b1").update(attended=True)
    result = bookings_upsert(source="g-1", records=[BookingRecord("b1", "s1", client.pk, status="cancelled")])
    booking = Booking.objects.get(external_id="b1")
    assert result.updated == 1 and booking.status == "cancelled" and booking.attended
    assert bookings_upsert(source="g-1", records=[BookingRecord("b2", "unknown", client.pk)]).created == 0
