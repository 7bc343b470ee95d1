"""Neutral records for what clients hold and book, as member systems report them."""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ClientPackageRecord:
    """A package a client holds, keyed by the vendor's reference (`alt_id`)."""

    alt_id: str
    client_id: int
    package_id: int
    start: datetime
    end: datetime | None = None
    status: str = "active"  # packages.models.ClientPackage.Status
    location_id: int | None = None
    tier_id: int | None = None
    credits_remaining: int | None = None


@dataclass(frozen=True)
class ClassSessionRecord:
    """A class or appointment slot, keyed by the vendor's id."""

    external_id: str
    name: str
    location_id: int
    start: datetime
    end: datetime


@dataclass(frozen=True)
class BookingRecord:
    """A client's booking of a session, keyed by the vendor's id."""

    external_id: str
    session_external_id: str
    client_id: int
    status: str = "booked"  # packages.models.Booking.Status
    attended: bool = False
