"""Fixtures for door rules, decisions, unlocks and sequences: a club, a Kisi door, a test door backend."""

from datetime import UTC, datetime, time
from decimal import Decimal

import pytest

from accessctl.backends import UnlockResult
from accessctl.models import DoorRules, VisitAvailability, VisitType
from packages.models import Package
from tests.accessctl.doubles import RecordingDoors
from tests.factories import ClientFactory, ClientPackageFactory, DoorFactory, LocationFactory, PackageFactory

# Westminster; 0.001 degree of latitude is about 111 m.
LAT, LON = Decimal("51.500700"), Decimal("-0.124600")
# A Monday afternoon in London (BST: 15:00 local).
MONDAY_2PM_UTC = datetime(2026, 10, 5, 14, 0, tzinfo=UTC)


@pytest.fixture
def doors_backend(settings):
    settings.ACCESS_DOOR_BACKENDS = {"kisi": "tests.accessctl.doubles.RecordingDoors"}
    RecordingDoors.calls = []
    RecordingDoors.answer = UnlockResult(True, "Unlocked!", True)
    RecordingDoors.error = None
    return RecordingDoors


@pytest.fixture
def location(db):
    return LocationFactory(name="Riverside", time_zone="Europe/London", latitude=LAT, longitude=LON)


@pytest.fixture
def door(location):
    door = DoorFactory(title="Open gym", location=location, access_control="kisi", kisi_lock_id="4711")
    DoorRules.objects.create(door=door)
    return door


@pytest.fixture
def member(location):
    return ClientFactory(first_name="Ada", last_name="Lovelace", email="ada@example.com",
                         home_location=location)


def rules_set(door, **values):
    """Change the door's rules (tags=[...] sets its tags)."""
    tags = values.pop("tags", None)
    DoorRules.objects.filter(door=door).update(**values)
    rules = DoorRules.objects.get(door=door)
    if tags is not None:
        rules.tags.set(tags)
    return rules


def visit_type_add(door, *, packages, price=2, name="Open gym visit", hours=None):
    """A visit type paid by `packages`; `hours` = [(days, "HH:MM", "HH:MM"), ...] (days: "0123456")."""
    visit = VisitType.objects.create(door=door, name=name, price=price)
    visit.packages.set(packages)
    for days, start, end in hours or []:
        VisitAvailability.objects.create(
            visit_type=visit, start_time=time.fromisoformat(start), end_time=time.fromisoformat(end),
            **{name: str(i) in days for i, name in enumerate(
                ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"])},
        )
    return visit


def held(member, kind, *, credits=None, name=None, **extra):
    """An active client package of a new package of `kind` for `member`."""
    package = PackageFactory(kind=kind, name=name or f"{Package.Kind(kind).label} {kind}")
    return ClientPackageFactory(client=member, package=package, credits_remaining=credits,
                                start=datetime(2026, 1, 1, tzinfo=UTC), **extra)
