"""Kisi as the door backend of accessctl (settings.ACCESS_DOOR_BACKENDS["kisi"]).

A deployment serves one organisation, so it has one Kisi integration: the backend uses
the first active one (lowest id) when there are several, and says so when there is none.
"""

from accessctl.backends import DoorBackend, UnlockResult, lock_state_text
from accessctl.models import Door
from integrations.connectors import connector_for
from integrations.errors import VendorError
from integrations.models import Integration

KIND = "kisi"
UNLOCK_TIMEOUT = (3.0, 10.0)  # a member is standing at the door


class KisiDoors(DoorBackend):
    """Unlock Kisi locks; their online state is what the doors sync last read (GET /locks)."""

    def _client(self):
        integration = Integration.objects.filter(kind=KIND, is_active=True).order_by("pk").first()
        if integration is None:
            return None
        return connector_for(integration).client(timeout=UNLOCK_TIMEOUT, max_attempts=2)

    def unlock(self, door: Door, *, latitude: float | None = None,
               longitude: float | None = None) -> UnlockResult:
        """Open the door's lock once (with the member's location as context); the answer
        carries the lock's stored online state and when it was read."""
        kisi, problem = self._client_for(door)
        if kisi is None:
            return UnlockResult(False, problem)
        try:
            kisi.lock_unlock(door.kisi_lock_id, latitude=latitude, longitude=longitude)
        except VendorError as error:
            return UnlockResult(False, f"Kisi did not unlock it: {error}", door.lock_online, door.lock_online_at)
        # The reply body is the vendor's text: never echoed (it could carry anything).
        return UnlockResult(True, "Kisi unlocked it", door.lock_online, door.lock_online_at)

    def status(self, door: Door) -> UnlockResult:
        """Whether the lock was online when the doors sync last read Kisi's locks."""
        kisi, problem = self._client_for(door)
        if kisi is None:
            return UnlockResult(False, problem)
        if door.lock_online is None:
            return UnlockResult(False, "The doors sync has not read this lock's state yet")
        return UnlockResult(True, lock_state_text(door.lock_online, door.lock_online_at).rstrip("."),
                            door.lock_online, door.lock_online_at)

    def _client_for(self, door: Door):
        """(Kisi client, "") when this door can be asked of Kisi, else (None, why not)."""
        kisi = self._client()
        if kisi is None:
            return None, "No active Kisi integration"
        if not door.kisi_lock_id:
            return None, "The door has no Kisi lock ID"
        return kisi, ""
