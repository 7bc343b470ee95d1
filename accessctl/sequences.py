"""Booking sequences at work: add each due tag, remove each finished one, exactly once.

Run every minute by the django-q2 schedule SCHEDULE_NAME (accessctl.tasks.sequences_task).
A booking's tag loan opens `minutes_before` its class starts and closes `minutes_after`
it ends (or at once when the booking is cancelled or gone). A tag is only taken away
when none of the member's open loans of that tag still needs it, and only when a
sequence added it (a tag the member already had stays).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django_q.models import Schedule

from accessctl.models import SequenceGrant, TagSequence
from clients.models import Tag
from clients.services import client_tags_change
from packages.models import Booking

SCHEDULE_NAME = "accessctl:sequences"
SEQUENCE_TASK = "accessctl.tasks.sequences_task"
SOURCE = "sequence"


@dataclass
class SequenceRunResult:
    """What one run did: tag loans opened and closed, and tags really added/removed."""

    opened: int = 0
    closed: int = 0
    tags_added: int = 0
    tags_removed: int = 0
    reasons: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{self.opened} opened ({self.tags_added} tags added), "
                f"{self.closed} closed ({self.tags_removed} tags removed)")


@transaction.atomic
def sequences_run(*, now: datetime) -> SequenceRunResult:
    """Apply every sequence addition and removal due at `now`, each exactly once."""
    result = SequenceRunResult()
    sequences = list(TagSequence.objects.filter(is_active=True).select_related("tag"))
    open_tag_ids = set(SequenceGrant.objects.filter(removed_at__isnull=True).values_list("tag_id", flat=True))
    tag_ids = {s.tag_id for s in sequences} | open_tag_ids
    if not tag_ids:
        return result
    # Runs that overlap (a slow worker) wait here for each other: one applies, one finds nothing.
    tags = {t.pk: t for t in Tag.objects.select_for_update().filter(pk__in=tag_ids).order_by("pk")}
    due_adds = [(seq, row) for seq in sequences for row in _bookings_due(seq, now)]
    grants = list(SequenceGrant.objects.filter(removed_at__isnull=True)
                  .select_related("sequence", "booking__session__location").order_by("pk"))
    closing = [g for g in grants if _closes(g, now)]
    closing_ids = {g.pk for g in closing}
    needed = {(g.client_id, g.tag_id) for g in grants if g.pk not in closing_ids}
    needed |= {(row["client_id"], seq.tag_id) for seq, row in due_adds}
    _close(closing, needed, tags, now, result)
    _open(due_adds, now, result)
    return result


def _bookings_due(seq: TagSequence, now: datetime) -> list[dict]:
    """Booked places in the sequence's classes whose loan window is open and not yet opened."""
    bookings = Booking.objects.annotate(session_lname=Lower("session__name")).filter(
        session_lname__in=seq.names(), status=Booking.Status.BOOKED, client__deleted_at__isnull=True,
        session__start__lte=now + timedelta(minutes=seq.minutes_before),
        session__end__gt=now - timedelta(minutes=seq.minutes_after),
    ).exclude(sequence_grants__sequence=seq)
    if seq.location_id:
        bookings = bookings.filter(session__location_id=seq.location_id)
    return list(bookings.values("pk", "client_id", "session__name", "session__start",
                                "session__location__time_zone").order_by("pk"))


def _closes(grant: SequenceGrant, now: datetime) -> bool:
    if grant.sequence is None or grant.booking is None or grant.booking.status != Booking.Status.BOOKED:
        return True
    return now >= grant.booking.session.end + timedelta(minutes=grant.sequence.minutes_after)


def _open(due_adds, now: datetime, result: SequenceRunResult) -> None:
    groups = defaultdict(list)  # one tag change per sequence and class: one reason each
    for seq, row in due_adds:
        groups[(seq.pk, row["session__name"], row["session__start"])].append((seq, row))
    fresh = []
    for (_, name, start), rows in groups.items():
        seq = rows[0][0]
        reason = f"Sequence {seq.name}: booked {name} {_local(start, rows[0][1]['session__location__time_zone'])}"
        added = client_tags_change(client_ids={r["client_id"] for _, r in rows}, tag=seq.tag, add=True,
                                   reason=reason, source=SOURCE, now=now)
        result.tags_added += len(added)
        result.reasons.append(reason)
        fresh += [SequenceGrant(sequence=seq, booking_id=r["pk"], client_id=r["client_id"], tag=seq.tag,
                                session_name=name[:200], session_start=start, added_at=now,
                                tag_added=r["client_id"] in added) for _, r in rows]
    SequenceGrant.objects.bulk_create(fresh)
    result.opened += len(fresh)


def _close(closing, needed, tags, now: datetime, result: SequenceRunResult) -> None:
    by_member = defaultdict(list)
    for grant in closing:
        if (grant.client_id, grant.tag_id) not in needed:  # else wait for the member's last loan
            by_member[(grant.client_id, grant.tag_id)].append(grant)
    groups = defaultdict(set)
    for (client_id, tag_id), loans in by_member.items():
        if any(g.tag_added for g in loans):
            last = max(loans, key=lambda g: (g.session_start, g.pk))
            zone = last.booking.session.location.time_zone if last.booking else None
            groups[(tag_id, f"Sequence {last.sequence or '(deleted)'}: {last.session_name} "
                            f"{_local(last.session_start, zone)} is over")].add(client_id)
    removed_from = defaultdict(set)
    for (tag_id, reason), client_ids in groups.items():
        tag = tags.get(tag_id) or Tag.objects.get(pk=tag_id)
        removed_from[tag_id] |= client_tags_change(client_ids=client_ids, tag=tag, add=False,
                                                   reason=reason, source=SOURCE, now=now)
        result.reasons.append(reason)
    done = [g for loans in by_member.values() for g in loans]
    for grant in done:
        grant.removed_at, grant.tag_removed = now, grant.client_id in removed_from[grant.tag_id]
    SequenceGrant.objects.bulk_update(done, ["removed_at", "tag_removed"])
    result.closed += len(done)
    result.tags_removed += sum(len(ids) for ids in removed_from.values())


def _local(moment: datetime, time_zone: str | None) -> str:
    """A class's start as members read it: in its location's time zone."""
    zone = ZoneInfo(time_zone) if time_zone else None
    return f"{timezone.localtime(moment, zone):%a %d %b %H:%M}"


def sequences_schedule_sync() -> Schedule | None:
    """Keep the every-minute schedule running while there is sequence work; idempotent.

    It runs while an active sequence exists or a tag loan is still open (so tags are
    removed even after their sequence is switched off), and is paused otherwise.
    """
    busy = (TagSequence.objects.filter(is_active=True).exists()
            or SequenceGrant.objects.filter(removed_at__isnull=True).exists())
    schedule = Schedule.objects.filter(name=SCHEDULE_NAME).first()
    if schedule is None:
        if not busy:
            return None
        return Schedule.objects.create(name=SCHEDULE_NAME, func=SEQUENCE_TASK, schedule_type=Schedule.MINUTES,
                                       minutes=1, repeats=-1, next_run=timezone.now())
    repeats = -1 if busy else 0
    if schedule.repeats != repeats:
        schedule.repeats = repeats
        schedule.next_run = timezone.now()
        schedule.save(update_fields=["repeats", "next_run"])
    return schedule
