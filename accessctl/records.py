"""Neutral records of what a door system reports: its places, groups, locks and users."""

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class DoorPlaceRecord:
    """A site of the door system (a Kisi place), keyed by its id there."""

    kisi_id: str
    name: str
    time_zone: str = ""


@dataclass(frozen=True)
class DoorGroupRecord:
    """A door-system group; `place_kisi_id` None means organisation-scoped."""

    kisi_id: str
    name: str
    description: str = ""
    place_kisi_id: str | None = None


@dataclass(frozen=True)
class DoorLockRecord:
    """A lock of the door system, which becomes (or updates) a Door."""

    lock_id: str
    title: str
    place_kisi_id: str
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    online: bool | None = None  # None when the door system did not say


@dataclass(frozen=True)
class DoorSystemUserRecord:
    """A client's user in a door system, found by email or created there."""

    client_id: int
    external_id: str
    email: str = ""
