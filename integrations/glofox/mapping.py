"""Glofox records to Gatehouse's neutral records: clients, memberships, sessions, bookings.

Pure functions over the client's records (integrations.glofox.client): each judges its
record and raises BadRecord (with the vendor's body as payload) when it is unusable.
"""

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime

from clients.records import ClientRecord
from integrations.errors import BadRecord
from integrations.glofox.client import Booking as GlofoxBooking  # packages.models has a Booking
from integrations.glofox.client import Credit, Member, Membership
from packages.models import Booking, ClientPackage, Package

# Glofox membership (plan) types and the package kinds they become.
PACKAGE_KIND = {
    "time": Package.Kind.MEMBERSHIP,
    "time_classes": Package.Kind.MEMBERSHIP,
    "num_classes": Package.Kind.CREDIT_PACK,
    "payg": Package.Kind.PAY_AS_YOU_GO,
}
BOOKED_KINDS = frozenset({Package.Kind.CREDIT_PACK, Package.Kind.PAY_AS_YOU_GO})
# RESERVED is a held place that is not confirmed yet: no door access for it.
BOOKING_STATUS = {
    "BOOKED": Booking.Status.BOOKED,
    "WAITING": Booking.Status.WAITING,
    "RESERVED": Booking.Status.WAITING,
    "CANCELED": Booking.Status.CANCELLED,
    "CANCELLED": Booking.Status.CANCELLED,
    "FAILED": Booking.Status.CANCELLED,
}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def package_alt_id(membership_id: str) -> str:
    """The alt id of the Gatehouse package a Glofox membership type becomes."""
    return f"glofox_{membership_id}"


def client_package_alt_id(user_membership_id: str) -> str:
    """The alt id of the client package a member's Glofox membership becomes."""
    return f"glofox_um_{user_membership_id}"


def package_kind(glofox_type: str) -> str:
    return PACKAGE_KIND.get((glofox_type or "").lower(), Package.Kind.MEMBERSHIP)


def moment(value) -> datetime | None:
    """A Glofox time (unix seconds, as a number or text, or ISO-8601) in UTC; None if absent."""
    if value in (None, "", 0, "0"):
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, UTC)
    text = str(value).strip()
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except ValueError:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def local_moment(text, zone: zoneinfo.ZoneInfo) -> datetime:
    """A branch-local "YYYY-MM-DD HH:MM:SS" (the bookings list's format) in UTC."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return datetime.fromtimestamp(text, UTC)
    parsed = datetime.strptime(str(text).strip(), "%Y-%m-%d %H:%M:%S")
    return parsed.replace(tzinfo=zone).astimezone(UTC)


def _birth(value) -> date | None:
    if value in (None, "", 0):
        return None
    if isinstance(value, (int, float)) or str(value).lstrip("-").isdigit():
        return datetime.fromtimestamp(float(value), UTC).date()
    return date.fromisoformat(str(value)[:10])


@dataclass(frozen=True)
class MembershipHeld:
    """A member's Glofox membership as the client package it becomes."""

    alt_id: str
    package_alt_id: str
    package_name: str
    package_kind: str
    start: datetime
    end: datetime | None
    status: str


@dataclass(frozen=True)
class MemberMapped:
    """A Glofox client of one configuration, with the membership that gives it access."""

    configuration_id: int
    client: ClientRecord
    membership: MembershipHeld | None
    credits: int | None = None  # set when the member's credit packs were read


@dataclass(frozen=True)
class BookingMapped:
    """A Glofox booking with its class, keyed by the vendor's ids."""

    configuration_id: int
    external_id: str
    member_id: str
    session_id: str
    session_name: str
    start: datetime
    end: datetime
    status: str
    attended: bool


def member_map(member: Member, *, configuration, now: datetime, credits: list[Credit] | None = None) -> MemberMapped:
    """Map one Glofox client; its membership counts when the configuration selects it.

    A membership gives access when its status is ACTIVE and now lies between its start
    and expiry dates: the client package is active, from the start date to the expiry
    date (access selectors count it only inside them), unless the expiry has passed;
    other statuses expire or cancel the client package.
    """
    if not member.id:
        raise BadRecord("The Glofox client has no _id.", payload=member.payload)
    key = member.id
    try:
        birth = _birth(member.birth)
    except (TypeError, ValueError, OverflowError, OSError):
        raise BadRecord(f"Unreadable birth date {member.birth!r}.", key=key, payload=member.payload) from None
    client = ClientRecord(
        external_id=key, first_name=member.first_name[:100], last_name=member.last_name[:100],
        email=member.email[:254].strip(), phone=member.phone[:40], date_of_birth=birth,
        home_location_id=configuration.location_id, is_active=True, deleted=not member.active,
    )
    membership = None
    held = member.membership
    if held is not None and held.membership_id and _selected(held, configuration):
        try:
            membership = _membership_map(held, member, now)
        except (TypeError, ValueError, OverflowError, OSError) as error:
            raise BadRecord(f"Unreadable membership dates: {error}.", key=key, payload=member.payload) from None
    return MemberMapped(configuration.pk, client, membership, _credits_left(credits))


def _selected(held: Membership, configuration) -> bool:
    if held.membership_id in configuration.membership_types:
        return True
    return configuration.bookings_enabled and package_kind(held.type) in BOOKED_KINDS


def _membership_map(held: Membership, member: Member, now: datetime) -> MembershipHeld:
    start = moment(held.start_date) or moment(member.created) or EPOCH
    end = moment(held.expiry_date)
    if end is not None and end < start:
        end = start
    status = held.status.upper()
    if status == "ACTIVE":
        # One that starts later stays active with its start: access counts from then on,
        # with no other sync needed; one whose expiry passed has ended.
        state = ClientPackage.Status.ACTIVE if end is None or now < end else ClientPackage.Status.EXPIRED
    elif status in ("CANCELED", "CANCELLED"):
        state = ClientPackage.Status.CANCELLED
    else:  # EXPIRED, PAUSED, and anything Glofox adds: no access
        state = ClientPackage.Status.EXPIRED
    reference = held.user_membership_id or f"{member.id}_{held.membership_id}"
    return MembershipHeld(
        alt_id=client_package_alt_id(reference), package_alt_id=package_alt_id(held.membership_id),
        package_name=held.name or f"Glofox membership {held.membership_id}",
        package_kind=package_kind(held.type), start=start, end=end, status=state,
    )


def _credits_left(credits: list[Credit] | None) -> int | None:
    if credits is None:
        return None
    return sum(max(0, int(c.sessions or 0)) for c in credits if c.active)


def booking_map(booking: GlofoxBooking, *, configuration, zone: zoneinfo.ZoneInfo) -> BookingMapped:
    """Map one booking of the branch list (times are branch-local strings)."""
    if not booking.id:
        raise BadRecord("The Glofox booking has no _id.", payload=booking.payload)
    key = booking.id
    if not booking.member_id or not booking.class_id:
        raise BadRecord("The booking names no member or no class.", key=key, payload=booking.payload)
    try:
        start, end = local_moment(booking.time_start, zone), local_moment(booking.time_finish, zone)
    except (TypeError, ValueError, OverflowError, OSError):
        raise BadRecord(f"Unreadable class times {booking.time_start!r} - {booking.time_finish!r}.",
                        key=key, payload=booking.payload) from None
    if end <= start:
        raise BadRecord("The class ends before it starts.", key=key, payload=booking.payload)
    status = BOOKING_STATUS.get(str(booking.status or "").upper())
    if status is None:
        raise BadRecord(f"Unknown booking status {booking.status!r}.", key=key, payload=booking.payload)
    return BookingMapped(
        configuration_id=configuration.pk, external_id=key, member_id=booking.member_id,
        session_id=booking.class_id, session_name=(booking.class_name or "Class")[:200],
        start=start, end=end, status=status, attended=booking.attended,
    )
