"""Kisi's records as neutral Gatehouse records: pure functions, no I/O.

The client hands over places, groups, locks and unlock events (the webhook's and the
poll's alike) as its typed records; these functions judge and convert them. What needs
the database (is a lock's place mapped to a location? is an unlock's user ours?) stays in
the syncs, which call these once those questions are answered.
"""

from decimal import Decimal, InvalidOperation

from accessctl.records import DoorGroupRecord, DoorLockRecord, DoorPlaceRecord
from integrations.errors import BadRecord
from integrations.kisi.client import UNLOCK_EVENT
from integrations.kisi.records import Group, Lock, Place, UnlockEvent, parse_time


def record_id(kind: str, record: Place | Group | Lock) -> str:
    """A place's, group's or lock's Kisi id (BadRecord when it has none)."""
    if not isinstance(record.payload, dict) or not record.id:
        raise BadRecord(f"The {kind} has no id.",
                        payload=record.payload if isinstance(record.payload, dict) else str(record.payload))
    return record.id


def place_record(place: Place) -> DoorPlaceRecord:
    return DoorPlaceRecord(kisi_id=record_id("place", place), name=_name(place), time_zone=place.time_zone)


def group_record(group: Group) -> DoorGroupRecord:
    return DoorGroupRecord(kisi_id=record_id("group", group), name=_name(group),
                           description=group.description, place_kisi_id=group.place_id)


def lock_record(lock: Lock) -> DoorLockRecord:
    return DoorLockRecord(lock_id=record_id("lock", lock), title=_name(lock), place_kisi_id=lock.place_id,
                          latitude=_coordinate(lock.latitude), longitude=_coordinate(lock.longitude),
                          online=lock.online)


def unlock_ignored_reason(event: UnlockEvent) -> str:
    """Why an event is not a successful unlock by a user of a lock at a readable time ("" when it is)."""
    if not event.uuid:
        return "no uuid"
    if event.type != UNLOCK_EVENT:
        return f"type {event.type!r}"
    if not event.success:
        return "unlock refused"
    if event.actor_id is None:
        return "no actor (link or exit button)"
    if event.object_id is None:
        return "no lock"
    try:
        if parse_time(event.created_at) is None:
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


def _name(record: Place | Group | Lock) -> str:
    name = record.name
    if not isinstance(name, str) or not name.strip():
        raise BadRecord("It has no name.", payload=record.payload)
    return name.strip()
