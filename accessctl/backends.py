"""Door hardware is reached through backends named in settings.ACCESS_DOOR_BACKENDS.

`{"kisi": "integrations.kisi.doors.KisiDoors"}` maps a door's access control to a class
loaded with import_string, the way Django finds its mail backend: the door rules and the
unlock service never import a vendor, and tests can swap the backend.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.timesince import timesince

from accessctl.models import Door


@dataclass(frozen=True)
class UnlockResult:
    """What the door system answered."""

    ok: bool
    message: str
    online: bool | None = None  # None when the door system did not say
    online_at: datetime | None = None  # when the door system said it (None: just now, or never)


def lock_state_text(online: bool | None, read_at: datetime | None, *, now: datetime | None = None) -> str:
    """What the door system last said about a lock, with its age ("" when it never said).

    "The lock was online at the last doors sync (5 minutes ago)."
    """
    if online is None:
        return ""
    state = "online" if online else "offline"
    if read_at is None:
        return f"The lock is {state}."
    now = now or timezone.now()
    if now - read_at < timedelta(minutes=1):
        age = "under a minute"
    else:
        age = timesince(read_at, now, depth=1).replace("\xa0", " ")  # "3 hours", plain spaces
    return f"The lock was {state} at the last doors sync ({age} ago)."


class DoorBackend:
    """The interface a door system offers (subclass it; see integrations.kisi.doors)."""

    def unlock(self, door: Door, *, latitude: float | None = None,
               longitude: float | None = None) -> UnlockResult:
        """Open `door` once; the coordinates are the member's, passed on as context."""
        return UnlockResult(False, "This door system cannot unlock doors.")

    def status(self, door: Door) -> UnlockResult:
        """Whether the door's lock is known and online."""
        return UnlockResult(False, "This door system cannot report lock status.")


class DoorBackendMissing(Exception):
    """The door's access control has no configured backend."""


def door_backend(door: Door) -> DoorBackend:
    """The backend for `door`'s access control."""
    path = settings.ACCESS_DOOR_BACKENDS.get(door.access_control)
    if not path:
        raise DoorBackendMissing(f"Doors with access control '{door.get_access_control_display()}' "
                                 "cannot be opened from Gatehouse.")
    return import_string(path)()
