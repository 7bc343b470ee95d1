"""Writes to doors and door accesses."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction

from accessctl.backends import DoorBackendMissing, UnlockResult, door_backend
from accessctl.models import Door, DoorAccess
from packages.services import ATTENDANCE_BEFORE_START, bookings_mark_attended


@dataclass(frozen=True)
class DoorEntry:
    """A neutral door access as a member or door system reports it."""

    client_id: int
    door: Door
    accessed_at: datetime
    granted: bool
    source_ref: str


@transaction.atomic
def door_accesses_record(
    *, source: str, entries: list[DoorEntry], before_start: timedelta = ATTENDANCE_BEFORE_START
) -> list[DoorAccess]:
    """Store door accesses once each (by source reference) and mark nearby bookings attended.

    A granted entry from `before_start` ahead of a booked class until its end marks the
    booking attended. Entries already stored are skipped. Returns the accesses created now.
    """
    refs = [e.source_ref for e in entries]
    known = set(
        DoorAccess.objects.filter(source=source, source_ref__in=refs).values_list(
            "source_ref", flat=True
        )
    )
    fresh: dict[str, DoorEntry] = {}
    for entry in entries:
        if entry.source_ref not in known:
            fresh.setdefault(entry.source_ref, entry)
    created = DoorAccess.objects.bulk_create(
        [
            DoorAccess(
                client_id=e.client_id, door=e.door, accessed_at=e.accessed_at,
                granted=e.granted, source=source, source_ref=e.source_ref,
            )
            for e in fresh.values()
        ],
        ignore_conflicts=True,
    )
    bookings_mark_attended(
        entries=[(e.client_id, e.door.location_id, e.accessed_at) for e in fresh.values() if e.granted],
        before_start=before_start,
    )
    return created


def door_test_unlock(*, door: Door) -> UnlockResult:
    """The admin's "Test unlock": open the door once and say whether the lock answered."""
    try:
        backend = door_backend(door)
    except DoorBackendMissing as missing:
        return UnlockResult(False, str(missing))
    return backend.unlock(door)
