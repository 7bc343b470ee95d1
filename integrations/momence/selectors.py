"""Reads the Momence syncs need: whom to refresh, what is unsent, what a door access checks in."""

from collections import defaultdict
from datetime import datetime, timedelta

from django.db.models import Case, F, IntegerField, Q, Value, When
from django.utils import timezone

from accessctl.models import DoorAccess
from clients import lookups  # noqa: F401 - registers field__any (one array parameter)
from clients.models import ClientTagChange
from integrations.models import Delivery, Integration
from integrations.momence.mapping import BOOKING_PREFIX
from integrations.momence.models import MomenceMember, MomenceTag
from integrations.momence.services import PlannedCheckin, PlannedTagPush
from packages.models import Booking


def members_due_for_memberships(
    *, integration: Integration, limit: int | None, stale_after: timedelta, now: datetime | None = None
) -> list[tuple[str, int, datetime | None]]:
    """(member id, client id, last seen) of the members whose bought memberships to read now.

    Most useful first: never read; then seen by Momence since the last read (a visit
    or a purchase moves lastSeen); then read longer ago than `stale_after`, oldest first.
    """
    now = now or timezone.now()
    never = Q(memberships_checked_at__isnull=True)
    seen_since = Q(last_seen__isnull=False) & (
        Q(memberships_last_seen__isnull=True) | Q(memberships_last_seen__lt=F("last_seen")))
    stale = Q(memberships_checked_at__lt=now - stale_after)
    rows = (
        MomenceMember.objects.filter(integration=integration, client__deleted_at__isnull=True)
        .filter(never | seen_since | stale)
        .annotate(priority=Case(When(never, then=Value(0)), When(seen_since, then=Value(1)), default=Value(2),
                                output_field=IntegerField()))
        .order_by("priority", "memberships_checked_at", "pk")
        .values_list("member_id", "client_id", "last_seen")
    )
    return list(rows[:limit] if limit else rows)


def momence_tags_by_tag(*, integration: Integration) -> dict[int, str]:
    """The Momence tag id of every Gatehouse tag Momence knows (the tags it manages)."""
    rows = MomenceTag.objects.filter(integration=integration).order_by("-pk")
    return dict(rows.values_list("tag_id", "momence_id"))


def momence_tag_ids(*, integration: Integration) -> dict[str, int]:
    """The Gatehouse tag id of every Momence tag id."""
    return dict(MomenceTag.objects.filter(integration=integration).values_list("momence_id", "tag_id"))


def tag_pairs_unsent(
    *, integration: Integration, client_ids: list[int], after_change: int, sent_since: datetime
) -> set[tuple[int, int]]:
    """(client id, tag id) pairs whose local state Momence may not know yet.

    Gatehouse's own changes not yet queued (after the push cursor), pushes still
    pending, and pushes sent after `sent_since` (a member page read before then
    predates them).
    """
    changes = ClientTagChange.objects.filter(pk__gt=after_change, client_id__any=client_ids).exclude(
        source=integration.source).values_list("client_id", "tag_id")
    pushes = Delivery.objects.filter(integration=integration, kind="tag_push", client_id__any=client_ids).filter(
        Q(state__in=[Delivery.State.PENDING, Delivery.State.FAILED, Delivery.State.SENDING])
        | Q(sent_at__gte=sent_since)).values_list("client_id", "payload__tag_id")
    return set(changes) | set(pushes)


def tag_changes_after(
    *, integration: Integration, after: int, limit: int
) -> tuple[list[PlannedTagPush], int | None]:
    """Gatehouse's tag changes after id `after` for this integration's clients and tags
    Momence knows, and the last id read (None when there was nothing)."""
    rows = list(
        ClientTagChange.objects.filter(pk__gt=after, client__source=integration.source)
        .exclude(source=integration.source).order_by("pk")
        .values_list("pk", "client_id", "tag_id", "action")[:limit]
    )
    known = momence_tags_by_tag(integration=integration)
    planned = [PlannedTagPush(client_id=c, tag_id=t, action=a, change_id=pk)
               for pk, c, t, a in rows if t in known]
    return planned, (rows[-1][0] if rows else None)


def door_accesses_after(*, source: str, after: int, limit: int) -> list[tuple[int, int, int, datetime]]:
    """(id, client id, location id, time) of granted door accesses after id `after` by
    clients of `source`, in id order."""
    return list(
        DoorAccess.objects.filter(pk__gt=after, granted=True, client__source=source).order_by("pk")
        .values_list("pk", "client_id", "door__location_id", "accessed_at")[:limit]
    )


def door_access_start(*, since: datetime) -> int:
    """The id a new check-in cursor starts after: door accesses before `since` are history."""
    recent = DoorAccess.objects.filter(accessed_at__gte=since).order_by("pk")
    first = recent.values_list("pk", flat=True).first()
    if first is not None:
        return first - 1
    last = DoorAccess.objects.order_by("-pk").values_list("pk", flat=True).first()
    return last or 0


def checkins_for_accesses(
    *, source: str, accesses: list[tuple[int, int, int, datetime]], before_start: timedelta
) -> list[PlannedCheckin]:
    """The session bookings these door accesses check in: the member's booked sessions at
    the door's location that start at most `before_start` after the access and have not
    ended before it."""
    if not accesses:
        return []
    earliest, latest = min(a[3] for a in accesses), max(a[3] for a in accesses)
    bookings = Booking.objects.filter(
        source=source, external_id__startswith=BOOKING_PREFIX, status=Booking.Status.BOOKED,
        client_id__in={a[1] for a in accesses}, session__location_id__in={a[2] for a in accesses},
        session__start__lte=latest + before_start, session__end__gte=earliest,
    ).values_list("pk", "external_id", "client_id", "session__location_id", "session__start", "session__end")
    visits = defaultdict(list)
    for access_id, client_id, location_id, at in accesses:
        visits[(client_id, location_id)].append((at, access_id))
    planned = []
    for pk, external_id, client_id, location_id, start, end in bookings:
        hits = [access_id for at, access_id in sorted(visits[(client_id, location_id)])
                if start - before_start <= at <= end]
        if hits:
            planned.append(PlannedCheckin(booking_id=pk, booking_ref=external_id.removeprefix(BOOKING_PREFIX),
                                          door_access_id=hits[0]))
    return planned
