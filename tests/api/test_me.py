"""GET /api/v1/me: the member, active packages with credits, upcoming bookings."""

from datetime import timedelta

import pytest
from django.utils import timezone

from packages.models import Booking, ClientPackage, Package
from tests.api.helpers import PASSWORD, bearer, login, member_create
from tests.factories import BookingFactory, ClassSessionFactory, ClientPackageFactory, LocationFactory, PackageFactory

pytestmark = pytest.mark.django_db


def test_me_lists_what_the_member_holds_and_has_booked(client, django_assert_max_num_queries):
    now = timezone.now()
    riverside = LocationFactory(name="Riverside")
    member = member_create(email="ada@example.com", first_name="Ada", home_location=riverside)
    pack = PackageFactory(name="10 PT sessions", alt_id="product_26", kind=Package.Kind.CREDIT_PACK)
    ClientPackageFactory(client=member, package=pack, location=riverside, credits_remaining=8)
    ClientPackageFactory(client=member, package=PackageFactory(name="Gold"), end=now + timedelta(days=30))
    ClientPackageFactory(client=member, package=PackageFactory(name="Old"), start=now - timedelta(days=60),
                         end=now - timedelta(days=1))
    ClientPackageFactory(client=member, package=PackageFactory(name="Cancelled"),
                         status=ClientPackage.Status.CANCELLED)
    ClientPackageFactory(client=member, package=PackageFactory(name="Next year"), start=now + timedelta(days=365))
    ClientPackageFactory(package=PackageFactory(name="Someone else's"))
    soon = BookingFactory(client=member, session=ClassSessionFactory(name="Spin", location=riverside,
                                                                     start=now + timedelta(hours=2)))
    BookingFactory(client=member, status=Booking.Status.WAITING,
                   session=ClassSessionFactory(name="Yoga", start=now + timedelta(days=1)))
    BookingFactory(client=member, session=ClassSessionFactory(name="Past", start=now - timedelta(days=1)))
    BookingFactory(client=member, status=Booking.Status.CANCELLED, session=ClassSessionFactory(name="Dropped"))
    BookingFactory(session=ClassSessionFactory(name="Not hers"))
    access = login(client, "ada@example.com", PASSWORD).json()["access"]

    with django_assert_max_num_queries(6):
        body = client.get("/api/v1/me", **bearer(access)).json()

    assert body["client"] == {"id": member.pk, "first_name": "Ada", "last_name": member.last_name,
                              "email": "ada@example.com", "phone": "", "alt_id": "", "is_active": True,
                              "home_location": "Riverside"}
    assert sorted(p["name"] for p in body["packages"]) == ["10 PT sessions", "Gold"]
    credit = next(p for p in body["packages"] if p["name"] == "10 PT sessions")
    assert (credit["credits_remaining"], credit["kind"], credit["location"], credit["package_alt_id"]) == (
        8, "credit_pack", "Riverside", "product_26")
    assert [(b["class_name"], b["status"]) for b in body["bookings"]] == [("Spin", "booked"), ("Yoga", "waiting")]
    assert body["bookings"][0]["id"] == soon.pk and body["bookings"][0]["location"] == "Riverside"


def test_me_without_a_token_is_401_with_a_bearer_challenge(client):
    answer = client.get("/api/v1/me")
    assert answer.status_code == 401 and answer.headers["WWW-Authenticate"] == 'Bearer realm="gatehouse"'
