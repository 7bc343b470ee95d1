"""Kisi as the door backend of accessctl (settings.ACCESS_DOOR_BACKENDS["kisi"]).

A deployment serves one organisation, so it has one Kisi integration: the backend uses
the first active one (lowest id) when there are several, and says so when there is none.
"""

import logging

from accessctl.backends import DoorBackend, UnlockResult
from accessctl.models import Door
from integrations.connectors import connector_for
from integrations.errors import VendorError
from integrations.models import Integration

logger = logging.getLogger("gatehouse.kisi")

KIND = "kisi"
UNLOCK_TIMEOUT = (3.0, 10.0)  # a member is standing at the door


class KisiDoors(DoorBackend):
    """Unlock Kisi locks and read whether they are online."""

    def _client(self):
        integration = Integration.objects.filter(kind=KIND, is_active=True).order_by("pk").first()
        if integration is None:
            return None
        return connector_for(integration).client(timeout=UNLOCK_TIMEOUT, max_attempts=2)

    def unlock(self, door: Door, *, latitude: float | None = None,
               longitude: float | None = None) -> UnlockResult:
        """Open the door's lock once (with the member's location as context), then say
        whether the lock is online."""
        kisi, problem = self._client_for(door)
        if kisi is None:
            return UnlockResult(False, problem)
        try:
            message = kisi.lock_unlock(door.kisi_lock_id, latitude=latitude, longitude=longitude)
            ok = True
        except VendorError as error:
            message, ok = f"Kisi did not unlock it: {error}", False
        online = self._online(kisi, door)
        return UnlockResult(ok, f"Kisi answered \"{message}\"" if ok else message, online)

    def status(self, door: Door) -> UnlockResult:
        """Whether Kisi knows the door's lock and it is online."""
        kisi, problem = self._client_for(door)
        if kisi is None:
            return UnlockResult(False, problem)
        try:
            lock = kisi.lock(door.kisi_lock_id)
        except VendorError as error:
            return UnlockResult(False, f"Kisi did not answer for the lock: {error}")
        online = lock_online(lock)
        state = {True: "online", False: "offline", None: "of unknown state"}[online]
        return UnlockResult(True, f"The lock '{lock.get('name', door.kisi_lock_id)}' is {state}", online)

    def _client_for(self, door: Door):
        """(Kisi client, "") when this door can be asked of Kisi, else (None, why not)."""
        kisi = self._client()
        if kisi is None:
            return None, "No active Kisi integration"
        if not door.kisi_lock_id:
            return None, "The door has no Kisi lock ID"
        return kisi, ""

    @staticmethod
    def _online(kisi, door: Door) -> bool | None:
        try:
            return lock_online(kisi.lock(door.kisi_lock_id))
        except VendorError as error:
            logger.info("door=%s kisi lock status unavailable: %s", door.pk, error)
            return None


def lock_online(lock) -> bool | None:
    """Whether Kisi's lock record says the lock is online (None: it does not say)."""
    return bool(lock["online"]) if isinstance(lock, dict) and "online" in lock else None
