"""Momence's records as the client hands them over (and takes them, for what it sends).

Each `from_api` reads a body leniently: an id Momence did not send usably is "", other
fields are kept as sent (a name that is not text, an unreadable time), because judging a
record is mapping.py's job. `payload` keeps the body for a sync issue; it never counts in
comparisons. Nested lists that are not lists of objects are kept unread (`*_readable`).
"""

from dataclasses import dataclass, field
from typing import Any


def momence_id(value: Any) -> str:
    """An id as text; "" when Momence sent none usable (a bool, an object, blank text)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)) or str(value).strip() == "":
        return ""
    return str(value)


def _fields(body: Any) -> dict:
    return body if isinstance(body, dict) else {}  # a body that is not an object has no fields


def _objects(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


def _member_id(body: dict) -> str | None:
    """The id of a booking's member; None when it names no member object."""
    member = body.get("member")
    return momence_id(member.get("id")) if isinstance(member, dict) else None


@dataclass(frozen=True)
class Tag:
    """A customer tag ({id, name}), on its own or on a member or a membership."""

    id: str
    name: Any = None
    payload: Any = field(default=None, compare=False, repr=False)

    @classmethod
    def from_api(cls, body: Any) -> "Tag":
        raw = _fields(body)
        return cls(momence_id(raw.get("id")), raw.get("name"), payload=body)


def _tags(value: Any) -> tuple[tuple[Tag, ...], bool]:
    """A list of tags as Tags, and whether it was one (a list of objects)."""
    return (tuple(Tag.from_api(t) for t in value), True) if _objects(value) else ((), False)


@dataclass(frozen=True)
class Member:
    id: str
    first_name: Any = None
    last_name: Any = None
    email: Any = None
    phone: Any = None
    tags: tuple[Tag, ...] = ()  # customerTags
    tags_readable: bool = True
    last_seen: Any = None  # ISO time as sent
    payload: Any = field(default=None, compare=False, repr=False)

    @classmethod
    def from_api(cls, body: Any) -> "Member":
        raw = _fields(body)
        tags, readable = _tags(raw.get("customerTags") or [])
        return cls(momence_id(raw.get("id")), raw.get("firstName"), raw.get("lastName"), raw.get("email"),
                   raw.get("phoneNumber"), tags, readable, raw.get("lastSeen"), payload=body)


@dataclass(frozen=True)
class Membership:
    """A catalogue membership. `tags` is None when the record has no tags field (see
    MomenceClient.memberships: the field is inferred)."""

    id: str
    name: Any = None
    type: Any = None
    event_credits: Any = None
    combined_limit_enabled: bool = False
    combined_limit: Any = None
    session_limit: Any = None
    appointment_limit: Any = None
    tags: tuple[Tag, ...] | None = None
    tags_readable: bool = True
    payload: Any = field(default=None, compare=False, repr=False)

    @classmethod
    def from_api(cls, body: Any) -> "Membership":
        raw = _fields(body)
        tags, readable = _tags(raw["tags"]) if raw.get("tags") is not None else (None, True)
        return cls(momence_id(raw.get("id")), raw.get("name"), raw.get("type"), raw.get("eventCredits"),
                   bool(raw.get("combinedUsageLimitEnabled")), raw.get("combinedUsageLimit"),
                   raw.get("usageLimitForSessions"), raw.get("usageLimitForAppointments"), tags, readable,
                   payload=body)


@dataclass(frozen=True)
class BoughtMembership:
    """A member's bought membership; `membership_id` is None when it names no membership."""

    id: str
    membership_id: str | None = None
    start: Any = None  # startDate as sent
    end: Any = None  # endDate as sent
    credits_left: Any = None  # eventCreditsLeft
    combined_limit: Any = None
    used_sessions: Any = None
    frozen: bool = False
    payload: Any = field(default=None, compare=False, repr=False)

    @classmethod
    def from_api(cls, body: Any) -> "BoughtMembership":
        raw = _fields(body)
        membership = raw.get("membership")
        return cls(momence_id(raw.get("id")),
                   momence_id(membership.get("id")) if isinstance(membership, dict) else None,
                   raw.get("startDate"), raw.get("endDate"), raw.get("eventCreditsLeft"),
                   raw.get("combinedUsageLimit"), raw.get("usedSessions"), bool(raw.get("isFrozen")),
                   payload=body)


@dataclass(frozen=True)
class Session:
    id: str
    name: Any = None
    starts_at: Any = None
    ends_at: Any = None
    payload: Any = field(default=None, compare=False, repr=False)

    @classmethod
    def from_api(cls, body: Any) -> "Session":
        raw = _fields(body)
        return cls(momence_id(raw.get("id")), raw.get("name"), raw.get("startsAt"), raw.get("endsAt"),
                   payload=body)


@dataclass(frozen=True)
class SessionBooking:
    """A booking of a session; `member_id` is None when it names no member."""

    id: str
    member_id: str | None = None
    cancelled: bool = False
    checked_in: bool = False
    payload: Any = field(default=None, compare=False, repr=False)

    @classmethod
    def from_api(cls, body: Any) -> "SessionBooking":
        raw = _fields(body)
        return cls(momence_id(raw.get("id")), _member_id(raw), bool(raw.get("cancelledAt")),
                   bool(raw.get("checkedIn")), payload=body)


@dataclass(frozen=True)
class SessionBookings:
    """A session with its bookings (two calls); a sync issue keeps both bodies."""

    session: Session
    bookings: tuple[SessionBooking, ...] = ()

    @property
    def payload(self) -> dict:
        return {"session": self.session.payload, "bookings": [b.payload for b in self.bookings]}


@dataclass(frozen=True)
class Appointment:
    """An appointment reservation; `service_name` is its type's name as sent."""

    id: str
    service_name: Any = None
    starts_at: Any = None
    ends_at: Any = None
    member_id: str | None = None
    cancelled: bool = False
    payload: Any = field(default=None, compare=False, repr=False)

    @classmethod
    def from_api(cls, body: Any) -> "Appointment":
        raw = _fields(body)
        service = raw.get("service") if isinstance(raw.get("service"), dict) else {}
        return cls(momence_id(raw.get("id")), service.get("name"), raw.get("startsAt"), raw.get("endsAt"),
                   _member_id(raw), bool(raw.get("cancelledAt")), payload=body)


# What Gatehouse sends ---------------------------------------------------------------------
@dataclass(frozen=True)
class MemberTag:
    """A Momence tag on a Momence member (assigned or unassigned)."""

    member_id: str
    tag_id: str


@dataclass(frozen=True)
class BookingCheckIn:
    """A session booking to check in."""

    booking_id: str
