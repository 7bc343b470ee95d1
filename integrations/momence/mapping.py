"""Momence records as Gatehouse's neutral records; a record that cannot be used raises BadRecord.

Catalogue kinds decide door payment eligibility (issue 7): credit packs, unlimited
subscriptions and subscriptions with a combined usage limit may pay for a visit;
subscriptions with separate session/appointment limits never may. Momence's other
types carry no in-person visits paid in credits, so they map to kinds that never pay:
`on-demand-subscription` (a video library) and `patron` (a supporter's plan) become
plain memberships, `package-money` (a money balance, not credits) pay-as-you-go.
"""

from dataclasses import dataclass, field
from datetime import datetime

from clients.records import ClientRecord
from integrations.connectors import CatalogueEntry
from integrations.errors import BadRecord
from integrations.momence.client import parse_time
from integrations.pending import Waiting
from packages.models import Booking, ClientPackage, Package
from packages.records import ClassSessionRecord, ClientPackageRecord

# External ids: sessions and their bookings, and appointments (a session and a booking each).
SESSION_PREFIX, BOOKING_PREFIX, APPOINTMENT_PREFIX = "session:", "booking:", "appointment:"


def package_alt_id(membership_id) -> str:
    return f"momence_{membership_id}"


def _id(raw: dict, what: str) -> str:
    value = raw.get("id") if isinstance(raw, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, str)) or str(value).strip() == "":
        raise BadRecord(f"The {what} has no id.")
    return str(value)


def _text(raw: dict, name: str, key: str) -> str:
    value = raw.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRecord(f"{name} is not text: {value!r}.", key=key)
    return value.strip()


def _time(raw: dict, name: str, key: str, *, required: bool = False) -> datetime | None:
    try:
        value = parse_time(raw.get(name))
    except (TypeError, ValueError):
        raise BadRecord(f"Unreadable {name} {raw.get(name)!r}.", key=key) from None
    if value is None and required:
        raise BadRecord(f"The record has no {name}.", key=key)
    return value


def _count(raw: dict, name: str, key: str) -> int | None:
    value = raw.get(name)
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


def member_row(raw) -> MemberRow:
    """A Momence member as a client with its tags."""
    key = _id(raw, "member")
    first, last = _text(raw, "firstName", key), _text(raw, "lastName", key)
    if not first and not last:
        raise BadRecord("The member has no name.", key=key)
    tags = raw.get("customerTags") or []
    if not isinstance(tags, list) or not all(isinstance(t, dict) for t in tags):
        raise BadRecord("customerTags is not a list of tags.", key=key)
    return MemberRow(
        record=ClientRecord(external_id=key, first_name=first[:100], last_name=last[:100],
                            email=_text(raw, "email", key)[:254], phone=_text(raw, "phoneNumber", key)[:40]),
        tags={_id(t, "tag"): _text(t, "name", key) for t in tags},
        last_seen=_time(raw, "lastSeen", key),
    )


def tag_pair(raw) -> tuple[str, str]:
    key = _id(raw, "tag")
    name = _text(raw, "name", key)
    if not name:
        raise BadRecord("The tag has no name.", key=key)
    return key, name[:100]


def membership_kind(raw: dict, key: str = "") -> str:
    """The Package.Kind of a catalogue membership (see the module docstring)."""
    kind = raw.get("type")
    if kind == "package-events":
        return Package.Kind.CREDIT_PACK
    if kind == "subscription":
        if raw.get("combinedUsageLimitEnabled"):
            return Package.Kind.COMBINED_LIMIT
        if raw.get("usageLimitForSessions") is not None or raw.get("usageLimitForAppointments") is not None:
            return Package.Kind.SEPARATE_LIMITS
        return Package.Kind.UNLIMITED
    if kind in ("on-demand-subscription", "patron"):
        return Package.Kind.MEMBERSHIP
    if kind == "package-money":
        return Package.Kind.PAY_AS_YOU_GO
    raise BadRecord(f"Unknown membership type {kind!r}.", key=key)


def _limits(raw: dict, key: str) -> str:
    kind = membership_kind(raw, key)
    if kind == Package.Kind.COMBINED_LIMIT:
        return f"combined limit {_count(raw, 'combinedUsageLimit', key)}"
    if kind == Package.Kind.SEPARATE_LIMITS:
        return (f"{_count(raw, 'usageLimitForSessions', key)} sessions, "
                f"{_count(raw, 'usageLimitForAppointments', key)} appointments")
    return ""


def catalogue_entry(raw) -> CatalogueEntry:
    """A catalogue membership as the package it becomes."""
    key = _id(raw, "membership")
    name = _text(raw, "name", key) or f"Momence membership {key}"
    credits = _count(raw, "eventCredits", key)
    detail = ", ".join(filter(None, [str(raw.get("type")), _limits(raw, key),
                                     f"{credits} credits" if credits is not None else ""]))
    return CatalogueEntry(alt_id=package_alt_id(key), name=name, kind=membership_kind(raw, key),
                          credits=credits if credits is not None and credits >= 0 else None, detail=detail)


@dataclass(frozen=True)
class MembershipRow:
    """A catalogue membership: the package it becomes and the tags Momence puts on it
    (id -> name; None when the record carries no tags field: nothing is known of them)."""

    entry: CatalogueEntry
    tags: dict[str, str] | None = None


def membership_row(raw) -> MembershipRow:
    """A catalogue membership with its tags (`tags`, [{id, name}] like customerTags)."""
    entry = catalogue_entry(raw)
    key = _id(raw, "membership")
    tags = raw.get("tags")
    if tags is None:
        return MembershipRow(entry)
    if not isinstance(tags, list) or not all(isinstance(t, dict) for t in tags):
        raise BadRecord("tags is not a list of tags.", key=key)
    named = {_id(t, "membership's tag"): _text(t, "name", key)[:100] for t in tags}
    if not all(named.values()):
        raise BadRecord("A tag of the membership has no name.", key=key)
    return MembershipRow(entry, named)


def client_package(
    raw, *, key: str, client_id: int, packages: dict[str, tuple[int, str]]
) -> ClientPackageRecord | Waiting:
    """A bought membership as a client package; credits left are Momence's eventCreditsLeft.

    A subscription with a combined limit and no event credits keeps what is left of its
    limit (combinedUsageLimit - usedSessions). A frozen membership is not usable, so it
    is stored expired until Momence lists it unfrozen. One whose membership has no
    package yet waits for it (integrations.pending).
    """
    if not isinstance(raw, dict):
        raise BadRecord("A bought membership is not an object.", key=key)
    bought_id = _id(raw, "bought membership")
    membership = raw.get("membership")
    if not isinstance(membership, dict):
        raise BadRecord(f"Bought membership {bought_id} names no membership.", key=key)
    alt_id = package_alt_id(_id(membership, "membership"))
    start, end = _time(raw, "startDate", key, required=True), _time(raw, "endDate", key)
    if end is not None and end < start:
        raise BadRecord(f"Bought membership {bought_id} ends before it starts.", key=key)
    credits = _count(raw, "eventCreditsLeft", key)
    limit = _count(raw, "combinedUsageLimit", key)
    left = limit - (_count(raw, "usedSessions", key) or 0) if credits is None and limit is not None else None
    status = ClientPackage.Status.EXPIRED if raw.get("isFrozen") else ClientPackage.Status.ACTIVE
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


def _member_id(raw: dict, key: str) -> str:
    member = raw.get("member")
    if not isinstance(member, dict):
        raise BadRecord("The booking names no member.", key=key)
    return _id(member, "booking's member")


def _slot(raw: dict, key: str, *, name: str, location_id: int, external_id: str) -> ClassSessionRecord:
    start, end = _time(raw, "startsAt", key, required=True), _time(raw, "endsAt", key, required=True)
    if end <= start:
        raise BadRecord("It ends before it starts.", key=key)
    return ClassSessionRecord(external_id=external_id, name=name[:200], location_id=location_id,
                              start=start, end=end)


def session_row(raw, *, location_id: int) -> SessionRow:
    """A session with its bookings ({"session": ..., "bookings": [...]})."""
    session = raw.get("session") if isinstance(raw, dict) else None
    key = _id(session, "session")
    slot = _slot(session, key, name=_text(session, "name", key) or "Class", location_id=location_id,
                 external_id=SESSION_PREFIX + key)
    bookings = []
    for booking in raw.get("bookings") or []:
        booking_id = _id(booking, "booking")
        bookings.append(BookingRow(
            external_id=BOOKING_PREFIX + booking_id, session_external_id=slot.external_id,
            member_id=_member_id(booking, key),
            status=Booking.Status.CANCELLED if booking.get("cancelledAt") else Booking.Status.BOOKED,
            attended=bool(booking.get("checkedIn")),
        ))
    return SessionRow(session=slot, bookings=bookings)


def appointment_row(raw, *, location_id: int) -> SessionRow:
    """An appointment reservation as a session of its own and one booking.

    The session is named exactly as Momence names the appointment type (its service),
    so a booking sequence picks appointment types by name as it picks classes.
    """
    key = _id(raw, "appointment")
    service = raw.get("service") if isinstance(raw.get("service"), dict) else {}
    slot = _slot(raw, key, name=_text(service, "name", key) or "Appointment", location_id=location_id,
                 external_id=APPOINTMENT_PREFIX + key)
    booking = BookingRow(
        external_id=APPOINTMENT_PREFIX + key, session_external_id=slot.external_id,
        member_id=_member_id(raw, key),
        status=Booking.Status.CANCELLED if raw.get("cancelledAt") else Booking.Status.BOOKED,
    )
    return SessionRow(session=slot, bookings=[booking])
