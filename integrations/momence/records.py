"""Momence's records as the client hands them over (and takes them, for what it sends).

Each is a VendorRecord (integrations/records.py), read leniently: an id Momence did not send
usably is "", other fields are kept as sent (a name that is not text, an unreadable time),
because judging a record is mapping.py's job; `payload` keeps the body. Nested lists that
are not lists of objects are kept unread (`*_readable`).
"""

from dataclasses import dataclass
from typing import Any

from integrations.records import VendorRecord, api, nested_list, objects


def momence_id(value: Any) -> str:
    """An id as text; "" when Momence sent none usable (a bool, an object, blank text)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)) or str(value).strip() == "":
        return ""
    return str(value)


def _object_id(value: Any) -> str | None:
    """The id of a nested object (a booking's member, a bought membership's membership);
    None when the value is not an object."""
    return momence_id(value.get("id")) if isinstance(value, dict) else None


@dataclass(frozen=True)
class Tag(VendorRecord):
    """A customer tag ({id, name}), on its own or on a member or a membership."""

    id: str = api("id", read=momence_id)
    name: Any = api("name")


_tags = nested_list(Tag)


@dataclass(frozen=True)
class Member(VendorRecord):
    id: str = api("id", read=momence_id)
    first_name: Any = api("firstName")
    last_name: Any = api("lastName")
    email: Any = api("email")
    phone: Any = api("phoneNumber")
    tags: tuple[Tag, ...] = api("customerTags", read=lambda v: _tags(v or []))  # a missing list: none
    tags_readable: bool = api("customerTags", read=lambda v: objects(v or []))
    last_seen: Any = api("lastSeen")  # ISO time as sent


@dataclass(frozen=True)
class Membership(VendorRecord):
    """A catalogue membership. `tags` is None when the record has no tags field (see
    MomenceClient.memberships: the field is inferred)."""

    id: str = api("id", read=momence_id)
    name: Any = api("name")
    type: Any = api("type")
    event_credits: Any = api("eventCredits")
    combined_limit_enabled: bool = api("combinedUsageLimitEnabled", read=bool)
    combined_limit: Any = api("combinedUsageLimit")
    session_limit: Any = api("usageLimitForSessions")
    appointment_limit: Any = api("usageLimitForAppointments")
    tags: tuple[Tag, ...] | None = api("tags", read=lambda v: None if v is None else _tags(v))
    tags_readable: bool = api("tags", read=lambda v: v is None or objects(v))


@dataclass(frozen=True)
class BoughtMembership(VendorRecord):
    """A member's bought membership; `membership_id` is None when it names no membership."""

    id: str = api("id", read=momence_id)
    membership_id: str | None = api("membership", read=_object_id)
    start: Any = api("startDate")  # as sent
    end: Any = api("endDate")  # as sent
    credits_left: Any = api("eventCreditsLeft")
    combined_limit: Any = api("combinedUsageLimit")
    used_sessions: Any = api("usedSessions")
    frozen: bool = api("isFrozen", read=bool)


@dataclass(frozen=True)
class Session(VendorRecord):
    id: str = api("id", read=momence_id)
    name: Any = api("name")
    starts_at: Any = api("startsAt")
    ends_at: Any = api("endsAt")


@dataclass(frozen=True)
class SessionBooking(VendorRecord):
    """A booking of a session; `member_id` is None when it names no member."""

    id: str = api("id", read=momence_id)
    member_id: str | None = api("member", read=_object_id)
    cancelled: bool = api("cancelledAt", read=bool)
    checked_in: bool = api("checkedIn", read=bool)


@dataclass(frozen=True)
class SessionBookings:
    """A session with its bookings (two calls); a sync issue keeps both bodies."""

    session: Session
    bookings: tuple[SessionBooking, ...] = ()

    @property
    def payload(self) -> dict:
        return {"session": self.session.payload, "bookings": [b.payload for b in self.bookings]}


@dataclass(frozen=True)
class Appointment(VendorRecord):
    """An appointment reservation; `service_name` is its type's name as sent."""

    id: str = api("id", read=momence_id)
    service_name: Any = api("service.name")
    starts_at: Any = api("startsAt")
    ends_at: Any = api("endsAt")
    member_id: str | None = api("member", read=_object_id)
    cancelled: bool = api("cancelledAt", read=bool)


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
