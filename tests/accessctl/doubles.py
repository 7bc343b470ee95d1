"""A door backend for tests (named in settings.ACCESS_DOOR_BACKENDS by the doors_backend fixture)."""

from accessctl.backends import DoorBackend, UnlockResult


class RecordingDoors(DoorBackend):
    """Records its unlock calls and answers what the test tells it (or raises `error`)."""

    calls: list = []
    answer = UnlockResult(True, "Unlocked!", True)
    error: Exception | None = None

    def unlock(self, door, *, latitude=None, longitude=None):
        RecordingDoors.calls.append((door.pk, latitude, longitude))
        if RecordingDoors.error is not None:
            raise RecordingDoors.error
        return RecordingDoors.answer
