"""Kisi's records as neutral Gatehouse records: pure functions, no I/O.

Kisi's client returns its JSON objects as dicts; these functions read them. What needs
the database (is a lock's place mapped to a location? is an unlock's user ours?) stays in
the syncs, which call these once those questions are answered.
"""

from decimal import Decimal, InvalidOperation

from accessctl.records import DoorGroupRecord, DoorLockRecord, DoorPlaceRecord
from integrations.errors import BadRecord
from integrations.kisi.client import UNLOCK_EVENT, parse_time


def record_id(kind: str, raw) -> str:
    """A place's, group's or lock's Kisi id (BadRecord when it has none)."""
    if not isinstance(raw, dict) or raw.get("id") in (None, ""):
        raise BadRecord(f"The {kind} has no id.", payload=raw if isinstance(raw, dict) else str(raw))
    return str(raw["id"])


def place_record(raw: dict) -> DoorPlaceRecord:
    return DoorPlaceRecord(kisi_id=record_id("place", raw), name=_name(raw),
                           time_zone=str(raw.get("time_zone") or ""))


def group_record(raw: dict) -> DoorGroupRecord:
    place = raw.get("place_id")
    return DoorGroupRecord(kisi_id=record_id("group", raw), name=_name(raw),
                           description=str(raw.get("description") or ""),
                           place_kisi_id=str(place) if place not in (None, "") else None)


def lock_place(raw: dict) -> str:
    """The Kisi id of the place a lock belongs to ("" when Kisi names none)."""
    return str(raw.get("place_id") or "")


def lock_record(raw: dict) -> DoorLockRecord:
    return DoorLockRecord(lock_id=record_id("lock", raw), title=_name(raw), place_kisi_id=lock_place(raw),
                          latitude=_coordinate(raw.get("latitude")),
                          longitude=_coordinate(raw.get("longitude")), online=_online(raw))


def unlock_ignored_reason(event) -> str:
    """Why an event is not a successful unlock by a user of a lock at a readable time ("" when it is)."""
    if not isinstance(event, dict) or not event.get("uuid"):
        return "no uuid"
    if event.get("type") != UNLOCK_EVENT:
        return f"type {event.get('type')!r}"
    if event.get("success") is not True:
        return "unlock refused"
    if event.get("actor_id") is None:
        return "no actor (link or exit button)"
    if event.get("object_id") is None:
        return "no lock"
    try:
        if parse_time(event.get("created_at")) is None:
            return "no time"
    except (ValueError, OverflowError):  # OverflowError: a time that leaves years 1-9999 in UTC
        return "unreadable time"
    return ""


def _coordinate(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return round(Decimal(str(value)), 6)
    except InvalidOperation:
        return None


def _online(raw: dict) -> bool | None:
    """The lock's `online` flag; None when Kisi left it out or sent something else."""
    value = raw.get("online")
    return value if isinstance(value, bool) else None


def _name(raw: dict) -> str:
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise BadRecord("It has no name.", payload=raw)
    return name.strip()
