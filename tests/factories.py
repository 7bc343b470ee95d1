"""factory-boy factories for the club records."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from accessctl.models import Door
from clients.models import Client, ClientIdentity, IdentityType, Location, LocationTier, Tag
from packages.models import Booking, ClassSession, ClientPackage, Package


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    name = factory.Sequence(lambda n: f"Club {n}")
    alt_id = factory.Sequence(lambda n: f"L{n}")
    time_zone = "Europe/London"
    latitude = Decimal("51.500000")
    longitude = Decimal("-0.120000")


class TierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LocationTier

    name = factory.Sequence(lambda n: f"Tier {n}")
    alt_id = factory.Sequence(lambda n: f"0{'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ'[n % 36]}")


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"tag{n}")


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"client{n}@example.com")
    home_location = factory.SubFactory(LocationFactory)


class IdentityTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IdentityType

    display_name = factory.Sequence(lambda n: f"Identity {n}")
    max_per_client = 1
    min_days_between_changes = 0


class PackageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Package

    name = factory.Sequence(lambda n: f"Package {n}")
    alt_id = factory.Sequence(lambda n: f"PKG{n}")
    kind = Package.Kind.MEMBERSHIP


class ClientPackageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClientPackage

    client = factory.SubFactory(ClientFactory)
    package = factory.SubFactory(PackageFactory)
    start = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))


class DoorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Door

    title = factory.Sequence(lambda n: f"Door {n}")
    door_id = factory.Sequence(lambda n: f"D{n}")
    location = factory.SubFactory(LocationFactory)


class ClassSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClassSession

    name = "Spin"
    location = factory.SubFactory(LocationFactory)
    start = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=1))
    end = factory.LazyAttribute(lambda o: o.start + timedelta(minutes=45))


class BookingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Booking

    session = factory.SubFactory(ClassSessionFactory)
    client = factory.SubFactory(ClientFactory)


class ClientIdentityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClientIdentity

    client = factory.SubFactory(ClientFactory)
    identity_type = factory.SubFactory(IdentityTypeFactory)
    value = factory.Sequence(lambda n: f"ID{n}")
