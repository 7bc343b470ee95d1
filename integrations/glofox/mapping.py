"""Glofox records to Gatehouse's neutral records: clients, memberships, sessions, bookings."""

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime

from clients.records import ClientRecord
from integrations.errors import BadRecord
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


def member_map(raw, *, configuration, now: datetime, credits: list | None = None) -> MemberMapped:
    """Map one Glofox client; its membership counts when the configuration selects it.

    A membership gives access when its status is ACTIVE and now lies between its start
    and expiry dates: the client package is active, from the start date to the expiry
    date (access selectors count it only inside them), unless the expiry has passed;
    other statuses expire or cancel the client package.
    """
    if not isinstance(raw, dict) or not raw.get("_id"):
        raise BadRecord("The Glofox client has no _id.", payload=raw if isinstance(raw, dict) else str(raw))
    key = str(raw["_id"])
    try:
        birth = _birth(raw.get("birth"))
    except (TypeError, ValueError, OverflowError, OSError):
        raise BadRecord(f"Unreadable birth date {raw.get('birth')!r}.", key=key, payload=raw) from None
    client = ClientRecord(
        external_id=key, first_name=str(raw.get("first_name") or "")[:100],
        last_name=str(raw.get("last_name") or "")[:100], email=str(raw.get("email") or "")[:254].strip(),
        phone=str(raw.get("phone") or "")[:40], date_of_birth=birth,
        home_location_id=configuration.location_id, is_active=True,
        deleted=raw.get("active") is False,
    )
    membership = None
    held = raw.get("membership")
    if isinstance(held, dict) and held.get("membership_id") and _selected(held, configuration):
        try:
            membership = _membership_map(held, raw, now)
        except (TypeError, ValueError, OverflowError, OSError) as error:
            raise BadRecord(f"Unreadable membership dates: {error}.", key=key, payload=raw) from None
    return MemberMapped(configuration.pk, client, membership, _credits_left(credits))


def _selected(held: dict, configuration) -> bool:
    if str(held["membership_id"]) in configuration.membership_types:
        return True
    return configuration.bookings_enabled and package_kind(str(held.get("type") or "")) in BOOKED_KINDS


def _membership_map(held: dict, member: dict, now: datetime) -> MembershipHeld:
    start = moment(held.get("start_date")) or moment(member.get("created")) or EPOCH
    end = moment(held.get("expiry_date"))
    if end is not None and end < start:
        end = start
    status = str(held.get("status") or "").upper()
    if status == "ACTIVE":
        # One that starts later stays active with its start: access counts from then on,
        # with no other sync needed; one whose expiry passed has ended.
        state = ClientPackage.Status.ACTIVE if end is None or now < end else ClientPackage.Status.EXPIRED
    elif status in ("CANCELED", "CANCELLED"):
        state = ClientPackage.Status.CANCELLED
    else:  # EXPIRED, PAUSED, and anything Glofox adds: no access
        state = ClientPackage.Status.EXPIRED
    membership_id = str(held["membership_id"])
    reference = str(held.get("user_membership_id") or f"{member['_id']}_{membership_id}")
    return MembershipHeld(
        alt_id=client_package_alt_id(reference), package_alt_id=package_alt_id(membership_id),
        package_name=str(held.get("membership_name") or f"Glofox membership {membership_id}"),
        package_kind=package_kind(str(held.get("type") or "")), start=start, end=end, status=state,
    )


def _credits_left(credits: list | None) -> int | None:
    if credits is None:
        return None
    return sum(max(0, int(c.get("num_sessions") or 0)) for c in credits
               if isinstance(c, dict) and c.get("active", True))


def booking_map(raw, *, configuration, zone: zoneinfo.ZoneInfo) -> BookingMapped:
    """Map one booking of the branch list (times are branch-local strings)."""
    if not isinstance(raw, dict) or not raw.get("_id"):
        raise BadRecord("The Glofox booking has no _id.", payload=raw if isinstance(raw, dict) else str(raw))
    key = str(raw["_id"])
    session_id = raw.get("event_id") or raw.get("model_id")
    if not raw.get("user_id") or not session_id:
        raise BadRecord("The booking names no member or no class.", key=key, payload=raw)
    try:
        start, end = local_moment(raw["time_start"], zone), local_moment(raw["time_finish"], zone)
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        raise BadRecord(f"Unreadable class times {raw.get('time_start')!r} - {raw.get('time_finish')!r}.",
                        key=key, payload=raw) from None
    if end <= start:
        raise BadRecord("The class ends before it starts.", key=key, payload=raw)
    status = BOOKING_STATUS.get(str(raw.get("status") or "").upper())
    if status is None:
        raise BadRecord(f"Unknown booking status {raw.get('status')!r}.", key=key, payload=raw)
    return BookingMapped(
        configuration_id=configuration.pk, external_id=key, member_id=str(raw["user_id"]),
        session_id=str(session_id), session_name=str(raw.get("event_name") or "Class")[:200],
        start=start, end=end, status=status, attended=bool(raw.get("attended")),
    )
