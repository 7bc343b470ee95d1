"""Momence records as Gatehouse's neutral records; a record that cannot be used raises BadRecord.

Catalogue kinds decide door payment eligibility (issue 7): credit packs, unlimited
subscriptions and subscriptions with a combined usage limit may pay for a visit;
subscriptions with separate session/appointment limits never may. Momence's other
types carry no in-person visits paid in credits, so they map to kinds that never pay:
`on-demand-subscription` (a video library) and `patron` (a supporter's plan) become
plain memberships, `package-money` (a money balance, not credits) pay-as-you-go.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import wraps

from clients.records import ClientRecord
from integrations.connectors import CatalogueEntry
from integrations.errors import BadRecord
from integrations.momence.client import parse_time
from integrations.momence.records import (
    Appointment,
    BoughtMembership,
    Member,
    Membership,
    SessionBookings,
    Tag,
)
from integrations.pending import Waiting
from packages.models import Booking, ClientPackage, Package
from packages.records import ClassSessionRecord, ClientPackageRecord

# External ids: sessions and their bookings, and appointments (a session and a booking each).
SESSION_PREFIX, BOOKING_PREFIX, APPOINTMENT_PREFIX = "session:", "booking:", "appointment:"


def package_alt_id(membership_id) -> str:
    return f"momence_{membership_id}"


@contextmanager
def judged(body) -> Iterator[None]:
    """A BadRecord raised inside carries `body`, the vendor's body a sync issue keeps."""
    try:
        yield
    except BadRecord as error:
        if error.payload is None:
            # Never falsy: the engine would keep the typed record instead, which is not JSON.
            error.payload = body if body else {"body": body}
        raise


def _judging(function):
    """Judge a record with its body for the sync issue (see judged)."""
    @wraps(function)
    def judge(record, *args, **kwargs):
        with judged(record.payload):
            return function(record, *args, **kwargs)
    return judge


def _id(value: str, what: str) -> str:
    if not value:
        raise BadRecord(f"The {what} has no id.")
    return value


def _text(value, name: str, key: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRecord(f"{name} is not text: {value!r}.", key=key)
    return value.strip()


def _time(value, name: str, key: str, *, required: bool = False) -> datetime | None:
    try:
        moment = parse_time(value)
    except (TypeError, ValueError):
        raise BadRecord(f"Unreadable {name} {value!r}.", key=key) from None
    if moment is None and required:
        raise BadRecord(f"The record has no {name}.", key=key)
    return moment


def _count(value, name: str, key: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRecord(f"{name} is not a whole number: {value!r}.", key=key)
    return value


@dataclass(frozen=True)
class MemberRow:
    """A member: the client, their Momence tags (id -> name) and when Momence last saw them."""

    record: ClientRecord
    tags: dict[str, str] = field(default_factory=dict)
    last_seen: datetime | None = None


@_judging
def member_row(member: Member) -> MemberRow:
    """A Momence member as a client with its tags."""
    key = _id(member.id, "member")
    first, last = _text(member.first_name, "firstName", key), _text(member.last_name, "lastName", key)
    if not first and not last:
        raise BadRecord("The member has no name.", key=key)
    if not member.tags_readable:
        raise BadRecord("customerTags is not a list of tags.", key=key)
    return MemberRow(
        record=ClientRecord(external_id=key, first_name=first[:100], last_name=last[:100],
                            email=_text(member.email, "email", key)[:254],
                            phone=_text(member.phone, "phoneNumber", key)[:40]),
        tags={_id(t.id, "tag"): _text(t.name, "name", key) for t in member.tags},
        last_seen=_time(member.last_seen, "lastSeen", key),
    )


@_judging
def tag_pair(tag: Tag) -> tuple[str, str]:
    key = _id(tag.id, "tag")
    name = _text(tag.name, "name", key)
    if not name:
        raise BadRecord("The tag has no name.", key=key)
    return key, name[:100]


def membership_kind(membership: Membership, key: str = "") -> str:
    """The Package.Kind of a catalogue membership (see the module docstring)."""
    kind = membership.type
    if kind == "package-events":
        return Package.Kind.CREDIT_PACK
    if kind == "subscription":
        if membership.combined_limit_enabled:
            return Package.Kind.COMBINED_LIMIT
        if membership.session_limit is not None or membership.appointment_limit is not None:
            return Package.Kind.SEPARATE_LIMITS
        return Package.Kind.UNLIMITED
    if kind in ("on-demand-subscription", "patron"):
        return Package.Kind.MEMBERSHIP
    if kind == "package-money":
        return Package.Kind.PAY_AS_YOU_GO
    raise BadRecord(f"Unknown membership type {kind!r}.", key=key)


def _limits(membership: Membership, key: str) -> str:
    kind = membership_kind(membership, key)
    if kind == Package.Kind.COMBINED_LIMIT:
        return f"combined limit {_count(membership.combined_limit, 'combinedUsageLimit', key)}"
    if kind == Package.Kind.SEPARATE_LIMITS:
        return (f"{_count(membership.session_limit, 'usageLimitForSessions', key)} sessions, "
                f"{_count(membership.appointment_limit, 'usageLimitForAppointments', key)} appointments")
    return ""


@_judging
def catalogue_entry(membership: Membership) -> CatalogueEntry:
    """A catalogue membership as the package it becomes."""
    key = _id(membership.id, "membership")
    name = _text(membership.name, "name", key) or f"Momence membership {key}"
    credits = _count(membership.event_credits, "eventCredits", key)
    detail = ", ".join(filter(None, [str(membership.type), _limits(membership, key),
                                     f"{credits} credits" if credits is not None else ""]))
    return CatalogueEntry(alt_id=package_alt_id(key), name=name, kind=membership_kind(membership, key),
                          credits=credits if credits is not None and credits >= 0 else None, detail=detail)


@dataclass(frozen=True)
class MembershipRow:
    """A catalogue membership: the package it becomes and the tags Momence puts on it
    (id -> name; None when the record carries no tags field: nothing is known of them)."""

    entry: CatalogueEntry
    tags: dict[str, str] | None = None


@_judging
def membership_row(membership: Membership) -> MembershipRow:
    """A catalogue membership with its tags (`tags`, [{id, name}] like customerTags)."""
    entry = catalogue_entry(membership)
    key = _id(membership.id, "membership")
    if membership.tags is None:
        return MembershipRow(entry)
    if not membership.tags_readable:
        raise BadRecord("tags is not a list of tags.", key=key)
    named = {_id(t.id, "membership's tag"): _text(t.name, "name", key)[:100] for t in membership.tags}
    if not all(named.values()):
        raise BadRecord("A tag of the membership has no name.", key=key)
    return MembershipRow(entry, named)


def client_package(
    bought: BoughtMembership, *, key: str, client_id: int, packages: dict[str, tuple[int, str]]
) -> ClientPackageRecord | Waiting:
    """A bought membership as a client package; credits left are Momence's eventCreditsLeft.

    A subscription with a combined limit and no event credits keeps what is left of its
    limit (combinedUsageLimit - usedSessions). A frozen membership is not usable, so it
    is stored expired until Momence lists it unfrozen. One whose membership has no
    package yet waits for it (integrations.pending).
    """
    if not isinstance(bought.payload, dict):
        raise BadRecord("A bought membership is not an object.", key=key)
    bought_id = _id(bought.id, "bought membership")
    if bought.membership_id is None:
        raise BadRecord(f"Bought membership {bought_id} names no membership.", key=key)
    alt_id = package_alt_id(_id(bought.membership_id, "membership"))
    start, end = _time(bought.start, "startDate", key, required=True), _time(bought.end, "endDate", key)
    if end is not None and end < start:
        raise BadRecord(f"Bought membership {bought_id} ends before it starts.", key=key)
    credits = _count(bought.credits_left, "eventCreditsLeft", key)
    limit = _count(bought.combined_limit, "combinedUsageLimit", key)
    left = (limit - (_count(bought.used_sessions, "usedSessions", key) or 0)
            if credits is None and limit is not None else None)
    status = ClientPackage.Status.EXPIRED if bought.frozen else ClientPackage.Status.ACTIVE
    if alt_id not in packages:  # what is left of a combined limit counts once the package says it is one
        value = credits if credits is not None else left
        return Waiting(reference=bought_id, client_id=client_id, package=alt_id, start=start, end=end,
                       status=status, credits_remaining=max(0, value) if value is not None else None,
                       credits_when="" if credits is not None or left is None else Package.Kind.COMBINED_LIMIT)
    package_id, kind = packages[alt_id]
    if credits is None and kind == Package.Kind.COMBINED_LIMIT and left is not None:
        credits = left
    return ClientPackageRecord(
        alt_id=bought_id, client_id=client_id, package_id=package_id, start=start, end=end, status=status,
        credits_remaining=max(0, credits) if credits is not None else None,
    )


@dataclass(frozen=True)
class BookingRow:
    """A booking before its member is resolved to a client."""

    external_id: str
    session_external_id: str
    member_id: str
    status: str
    attended: bool = False


@dataclass(frozen=True)
class SessionRow:
    """A session (or an appointment) and its bookings."""

    session: ClassSessionRecord
    bookings: list[BookingRow]


def _member_id(member_id: str | None, key: str) -> str:
    if member_id is None:
        raise BadRecord("The booking names no member.", key=key)
    return _id(member_id, "booking's member")


def _slot(record, key: str, *, name: str, location_id: int, external_id: str) -> ClassSessionRecord:
    start = _time(record.starts_at, "startsAt", key, required=True)
    end = _time(record.ends_at, "endsAt", key, required=True)
    if end <= start:
        raise BadRecord("It ends before it starts.", key=key)
    return ClassSessionRecord(external_id=external_id, name=name[:200], location_id=location_id,
                              start=start, end=end)


@_judging
def session_row(held: SessionBookings, *, location_id: int) -> SessionRow:
    """A session with its bookings."""
    session = held.session
    key = _id(session.id, "session")
    slot = _slot(session, key, name=_text(session.name, "name", key) or "Class", location_id=location_id,
                 external_id=SESSION_PREFIX + key)
    bookings = []
    for booking in held.bookings:
        booking_id = _id(booking.id, "booking")
        bookings.append(BookingRow(
            external_id=BOOKING_PREFIX + booking_id, session_external_id=slot.external_id,
            member_id=_member_id(booking.member_id, key),
            status=Booking.Status.CANCELLED if booking.cancelled else Booking.Status.BOOKED,
            attended=booking.checked_in,
        ))
    return SessionRow(session=slot, bookings=bookings)


@_judging
def appointment_row(appointment: Appointment, *, location_id: int) -> SessionRow:
    """An appointment reservation as a session of its own and one booking.

    The session is named exactly as Momence names the appointment type (its service),
    so a booking sequence picks appointment types by name as it picks classes.
    """
    key = _id(appointment.id, "appointment")
    slot = _slot(appointment, key, name=_text(appointment.service_name, "name", key) or "Appointment",
                 location_id=location_id, external_id=APPOINTMENT_PREFIX + key)
    booking = BookingRow(
        external_id=APPOINTMENT_PREFIX + key, session_external_id=slot.external_id,
        member_id=_member_id(appointment.member_id, key),
        status=Booking.Status.CANCELLED if appointment.cancelled else Booking.Status.BOOKED,
    )
    return SessionRow(session=slot, bookings=[booking])
