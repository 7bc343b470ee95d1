"""The access log staff read: app unlock decisions and door accesses every system reported,
newest first, as one stream."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

from accessctl.models import Door, DoorAccess, UnlockAttempt
from clients.models import Client, Location

GATEHOUSE_SOURCE = "gatehouse"  # door accesses the app's own unlocks recorded (shown as the attempt)


@dataclass(frozen=True)
class LogEntry:
    """One line of the access log."""

    key: str  # unique across both kinds, for the live refresh
    at: datetime
    client: Client
    door: Door
    outcome: str  # opened, refused, failed, pending, entered, denied
    outcome_label: str
    how: str
    reason: str
    credits: int = 0
    refunded: bool = False
    visit_type: str = ""
    door_answer: str = ""
    door_online: bool | None = None
    position: str = ""
    distance_m: float | None = None
    source: str = ""

    @property
    def refused(self) -> bool:
        return self.outcome in ("refused", "failed", "denied")


OUTCOMES = [
    ("opened", "Opened from the app"), ("refused", "Refused"), ("failed", "Door did not open"),
    ("entered", "Entered (reported by a door or member system)"), ("denied", "Denied at the door"),
]


def access_log_entries(
    *, client: Client | None = None, door: Door | None = None, location: Location | None = None,
    outcome: str = "",
    member: str = "", after: datetime | None = None, before: datetime | None = None,
    limit: int = 50, source_names: dict[str, str] | None = None,
) -> list[LogEntry]:
    """The newest `limit` entries matching the filters, newest first.

    `after` (exclusive) serves the live refresh; `before` (exclusive) pages back.
    """
    source_names = source_names or {}
    where = Q()
    for word in member.split():
        where &= (Q(client__first_name__icontains=word) | Q(client__last_name__icontains=word)
                  | Q(client__email__icontains=word))
    if client is not None:
        where &= Q(client=client)
    if door is not None:
        where &= Q(door=door)
    if location is not None:
        where &= Q(door__location=location)
    attempts = UnlockAttempt.objects.filter(where).select_related("client", "door", "door__location")
    accesses = (DoorAccess.objects.filter(where).exclude(source=GATEHOUSE_SOURCE)
                .select_related("client", "door", "door__location"))
    if after is not None:
        attempts, accesses = attempts.filter(attempted_at__gt=after), accesses.filter(accessed_at__gt=after)
    if before is not None:
        attempts, accesses = attempts.filter(attempted_at__lt=before), accesses.filter(accessed_at__lt=before)
    if outcome in ("entered", "denied"):
        attempts = attempts.none()
        accesses = accesses.filter(granted=outcome == "entered")
    elif outcome:
        accesses = accesses.none()
        attempts = attempts.filter(outcome=outcome)
    entries = [_from_attempt(a) for a in attempts.order_by("-attempted_at", "-id")[:limit]]
    entries += [_from_access(a, source_names) for a in accesses.order_by("-accessed_at", "-id")[:limit]]
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]


def _from_attempt(attempt: UnlockAttempt) -> LogEntry:
    return LogEntry(
        key=f"u{attempt.pk}", at=attempt.attempted_at, client=attempt.client, door=attempt.door,
        outcome=attempt.outcome, outcome_label=attempt.get_outcome_display(),
        how=f"App: {attempt.get_method_display()}" if attempt.method else "App", reason=attempt.reason,
        credits=attempt.credits, refunded=attempt.refunded, visit_type=attempt.visit_type_name,
        door_answer=attempt.door_answer, door_online=attempt.door_online,
        position=f"{attempt.latitude}, {attempt.longitude}" if attempt.latitude is not None else "",
        distance_m=attempt.distance_m, source="Gatehouse app",
    )


def _from_access(access: DoorAccess, source_names: dict[str, str]) -> LogEntry:
    where_from = source_names.get(access.source, access.source)
    return LogEntry(
        key=f"d{access.pk}", at=access.accessed_at, client=access.client, door=access.door,
        outcome="entered" if access.granted else "denied",
        outcome_label="Entered" if access.granted else "Denied at the door",
        how=f"Reported by {where_from}", reason="" if access.granted else "The door system refused it.",
        source=where_from,
    )
