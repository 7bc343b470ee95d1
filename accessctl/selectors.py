"""Who should be in which door-system group, and when: access computed from club records."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from accessctl.models import AccessRule, DoorAccess, TagSequence
from packages.models import Booking, ClientPackage


@dataclass(frozen=True)
class Window:
    """A period of access; None at either end means unbounded."""

    valid_from: datetime | None = None
    valid_until: datetime | None = None

    @property
    def unbounded(self) -> bool:
        return self.valid_from is None and self.valid_until is None


def _active_packages(now: datetime):
    return ClientPackage.objects.filter(
        Q(end__isnull=True) | Q(end__gt=now), status=ClientPackage.Status.ACTIVE, start__lte=now,
    )


def access_expected(
    *, client_ids: list[int] | None = None, now: datetime | None = None,
    owners: list[str] | None = None,
) -> dict[int, dict[int, Window]]:
    """The group access each client should have now: {client id: {group id: window}}.

    Every active rule is a reason; a client in a group for several reasons gets the
    widest: any package reason means unbounded access, else the booking window that is
    current or next (a door-system user holds one role per group, and the reconcile
    moves it on when a window ends). `client_ids` None means every client; `owners`
    limits the reasons to the rules those owners configured (None: every rule).
    """
    now = now or timezone.now()
    active = AccessRule.objects.filter(is_active=True)
    if owners is not None:
        active = active.filter(owner__in=owners)
    rules = list(active.prefetch_related("packages"))
    reasons: dict[int, dict[int, list[Window]]] = defaultdict(lambda: defaultdict(list))
    scope = Q() if client_ids is None else Q(client_id__in=client_ids)
    for rule in rules:
        package_ids = [p.pk for p in rule.packages.all()]
        if not package_ids:
            continue
        holders = _active_packages(now).filter(scope, package_id__in=package_ids).values_list(
            "client_id", flat=True
        )
        if rule.reason == AccessRule.Reason.PACKAGE:
            for client_id in holders:
                reasons[client_id][rule.group_id].append(Window())
            continue
        before, after = timedelta(minutes=rule.minutes_before), timedelta(minutes=rule.minutes_after)
        bookings = Booking.objects.filter(
            scope, client_id__in=holders, status=Booking.Status.BOOKED,
            session__end__gt=now - after, **({"session__location_id": rule.location_id} if rule.location_id else {}),
        ).values_list("client_id", "session__start", "session__end")
        for client_id, start, end in bookings:
            reasons[client_id][rule.group_id].append(Window(start - before, end + after))
    return {
        client_id: {group_id: _widest(windows) for group_id, windows in groups.items()}
        for client_id, groups in reasons.items()
    }


@dataclass(frozen=True)
class Entry:
    """A door access to attribute: its id, whose it was, when."""

    access_id: int
    client_id: int
    at: datetime


def accesses_granted_by(*, entries: list[Entry], owners: list[str]) -> set[int]:
    """The entries whose member the rules of `owners` gave access at that moment: the same
    decision the door system's groups were filled from (access_expected), asked at the
    entry's time, so a member system checks in only who came in through its rules."""
    by_minute: dict[datetime, list[Entry]] = defaultdict(list)
    for entry in entries:
        by_minute[entry.at.replace(second=0, microsecond=0)].append(entry)
    granted = set()
    for group in by_minute.values():
        expected = access_expected(client_ids=sorted({e.client_id for e in group}),
                                   now=max(e.at for e in group), owners=owners)
        for entry in group:
            windows = expected.get(entry.client_id, {}).values()
            if any(w.unbounded or w.valid_from <= entry.at <= w.valid_until for w in windows):
                granted.add(entry.access_id)
    return granted


def _widest(windows: list[Window]) -> Window:
    if any(w.unbounded for w in windows):
        return Window()
    # The window that ends first among those not yet over is the current or next one.
    return min(windows, key=lambda w: w.valid_until)


def rules_for_owner(owner: str):
    """The access rules an integration configuration owns."""
    return AccessRule.objects.filter(owner=owner)


def booking_doors_open_at(*, bookings: list[Booking], now: datetime | None = None) -> dict[int, datetime]:
    """When the doors open for each booking, by booking id (bookings with no door window are left out).

    A booking opens doors through a tag sequence lending a tag before the class (the door
    rules then open for that tag) or an access rule of the door system's groups for bookings
    of a package the member holds; the earliest of these is the one the member sees.
    """
    now = now or timezone.now()
    bookings = [b for b in bookings if b.status == Booking.Status.BOOKED]
    if not bookings:
        return {}
    sequences = list(TagSequence.objects.filter(is_active=True))
    rules = list(AccessRule.objects.filter(is_active=True, reason=AccessRule.Reason.BOOKING)
                 .prefetch_related("packages"))
    held = set(_active_packages(now).filter(client_id__in={b.client_id for b in bookings})
               .values_list("client_id", "package_id"))
    opens: dict[int, datetime] = {}
    for booking in bookings:
        session = booking.session
        starts = [session.start - timedelta(minutes=seq.minutes_before) for seq in sequences
                  if session.name.strip().lower() in seq.names()
                  and seq.location_id in (None, session.location_id)]
        starts += [session.start - timedelta(minutes=rule.minutes_before) for rule in rules
                   if rule.location_id in (None, session.location_id)
                   and any((booking.client_id, p.pk) in held for p in rule.packages.all())]
        if starts:
            opens[booking.pk] = min(starts)
    return opens


def door_accesses_recent(*, client_id: int, limit: int = 10):
    """The member's latest door accesses, newest first, with their doors and locations."""
    return (DoorAccess.objects.filter(client_id=client_id).select_related("door", "door__location")
            .order_by("-accessed_at", "-pk")[:limit])
