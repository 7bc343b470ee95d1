"""Kisi's records as client.py reads and sends them (../shared/vendors/kisi.md), read
leniently: mapping.py judges them. Marks as in client.py: [C] vendor docs, [I] inferred."""

from dataclasses import dataclass, field
from datetime import UTC, datetime

BASIC_ROLE = "group_basic"  # [C] the role a member holds in a group


@dataclass(frozen=True)
class KisiUser:
    id: str
    email: str
    name: str = ""


@dataclass(frozen=True)
class RoleAssignment:
    """A user's role in a group, with the window Kisi honours it in (None: unbounded)."""

    id: str
    user_id: str
    group_id: str
    role_id: str = BASIC_ROLE
    valid_from: datetime | None = None
    valid_until: datetime | None = None


def _kisi_id(value) -> str:
    """A record's id as text; "" when Kisi sent none."""
    return "" if value in (None, "") else str(value)


@dataclass(frozen=True)
class Place:
    """A Kisi place as sent. Its name is checked by mapping.py (a place without one is a
    SyncIssue); `payload` keeps the body for that issue."""

    id: str
    name: object = None
    time_zone: str = ""
    payload: object = field(default=None, compare=False, repr=False)

    @classmethod
    def from_api(cls, raw) -> "Place":
        if not isinstance(raw, dict):
            return cls("", payload=raw)
        return cls(_kisi_id(raw.get("id")), raw.get("name"), str(raw.get("time_zone") or ""), payload=raw)


@dataclass(frozen=True)
class Group:
    """A Kisi group as sent; `place_id` is None for an organisation-wide group."""

    id: str
    name: object = None
    description: str = ""
    place_id: str | None = None
    payload: object = field(default=None, compare=False, repr=False)

    @classmethod
    def from_api(cls, raw) -> "Group":
        if not isinstance(raw, dict):
            return cls("", payload=raw)
        return cls(_kisi_id(raw.get("id")), raw.get("name"), str(raw.get("description") or ""),
                   _kisi_id(raw.get("place_id")) or None, payload=raw)


@dataclass(frozen=True)
class Lock:
    """A Kisi lock as sent; `online` is None when Kisi left it out or sent something else.
    The coordinates are as sent (mapping.py reads them)."""

    id: str
    name: object = None
    place_id: str = ""
    latitude: object = None
    longitude: object = None
    online: bool | None = None
    payload: object = field(default=None, compare=False, repr=False)

    @classmethod
    def from_api(cls, raw) -> "Lock":
        if not isinstance(raw, dict):
            return cls("", payload=raw)
        online = raw.get("online")
        return cls(_kisi_id(raw.get("id")), raw.get("name"), str(raw.get("place_id") or ""),
                   raw.get("latitude"), raw.get("longitude"), online if isinstance(online, bool) else None,
                   payload=raw)


@dataclass(frozen=True)
class ListPage:
    """One page of a list: its records and the total X-Collection-Range reports."""

    records: list
    offset: int
    total: int | None
    sent: int | None = None  # how many records Kisi sent, when `records` keeps only some

    @property
    def next_offset(self) -> int:
        return self.offset + (self.sent if self.sent is not None else len(self.records))


@dataclass(frozen=True)
class UnlockEvent:
    """A Kisi event as the webhook and the poll send it, read leniently: mapping.py judges
    whether it is an unlock Gatehouse records. `uuid` is "" and the ids None when absent;
    `type` and `created_at` are as sent; `payload` keeps the body."""

    uuid: str = ""
    type: object = None
    success: bool = False  # only a literal true is a successful unlock
    actor_id: str | None = None
    object_id: str | None = None
    created_at: object = None
    payload: object = field(default=None, compare=False, repr=False)

    @classmethod
    def from_api(cls, raw) -> "UnlockEvent":
        if not isinstance(raw, dict):
            return cls(payload=raw)
        actor, lock = raw.get("actor_id"), raw.get("object_id")
        return cls(str(raw["uuid"]) if raw.get("uuid") else "", raw.get("type"), raw.get("success") is True,
                   None if actor is None else str(actor), None if lock is None else str(lock),
                   raw.get("created_at"), payload=raw)


@dataclass(frozen=True)
class EventsPage:
    events: list[UnlockEvent]
    next_cursor: str | None


def iso_utc(moment: datetime | None) -> str | None:
    """ISO-8601 UTC with a Z, to the second, as Kisi takes it."""
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value) -> datetime | None:
    """Kisi's ISO-8601 time (with Z or an offset) as an aware UTC datetime."""
    if not value:
        return None
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
