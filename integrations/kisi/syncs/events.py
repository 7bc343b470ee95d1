"""Kisi unlock events become door accesses: from the webhook, and by polling as the fallback.

A successful `lock.unlock` by a user Gatehouse created or mapped (DoorSystemUser), on a
lock that is a Door, is recorded once per event uuid (DoorAccess is unique per source
and reference) and wakes the member systems that check members in. Anything else (no
actor, e.g. an exit button; an unknown user or lock; a refused unlock) is logged and
counted, and recorded nowhere.
"""

import logging
from collections import Counter
from datetime import timedelta

from django.utils import timezone

from accessctl.models import Door, DoorAccess, DoorSystemUser
from accessctl.services import DoorEntry, door_accesses_record
from integrations.kisi.mapping import unlock_ignored_reason
from integrations.kisi.records import UnlockEvent, iso_utc, parse_time
from integrations.sync import Counts, Page, SyncJob

logger = logging.getLogger("gatehouse.kisi")

FIRST_LOOKBACK = timedelta(hours=1)  # the first poll reads the last hour
OVERLAP = timedelta(minutes=5)  # each poll re-reads a little, for events logged late


def unlock_events_record(*, integration, events: list[UnlockEvent]) -> Counts:
    """Record the unlocks among `events` as door accesses of `integration`'s source.

    Returns created (new door accesses), unchanged (already recorded) and skipped
    (events that are not a mapped user's successful unlock of a known door).
    """
    counts, why = Counts(), Counter()
    usable = []
    for event in events:
        if reason := unlock_ignored_reason(event):
            _ignore(integration, event, reason, why)
        else:
            usable.append(event)
    users = dict(DoorSystemUser.objects.filter(
        system=integration.source, external_id__in={e.actor_id for e in usable},
    ).values_list("external_id", "client_id"))
    doors: dict[str, Door] = {}
    found = Door.objects.filter(kisi_lock_id__in={e.object_id for e in usable})
    # A Kisi-controlled, active door wins over another door that merely names the lock.
    for door in sorted(found, key=lambda d: (d.access_control != Door.AccessControl.KISI,
                                             not d.is_active, d.pk)):
        doors.setdefault(door.kisi_lock_id, door)
    entries = []
    for event in usable:
        client_id, door = users.get(event.actor_id), doors.get(event.object_id)
        if client_id is None or door is None:
            _ignore(integration, event, "unknown user" if client_id is None else "unknown lock", why)
            continue
        entries.append(DoorEntry(client_id=client_id, door=door, accessed_at=parse_time(event.created_at),
                                 granted=True, source_ref=event.uuid[:100]))
    # Recording sends door_accesses_recorded, which wakes the check-in syncs (integrations.receivers).
    created = door_accesses_record(source=integration.source, integration_id=integration.pk,
                                   entries=entries) if entries else []
    counts.created, counts.unchanged = len(created), len(entries) - len(created)
    counts.skipped = sum(why.values())
    return counts


def _ignore(integration, event: UnlockEvent, reason: str, why: Counter) -> None:
    why[reason] += 1
    logger.info("integration=%s kisi event %s not recorded: %s", integration.pk, event.uuid or "-", reason)


class EventsSync(SyncJob):
    """Poll Kisi's unlock events since the last poll (less an overlap); duplicates are ignored.

    The cursor is the time up to which events have been read.
    """

    written_models = (DoorAccess,)  # their statistics are refreshed as a load grows

    def record_key(self, raw: UnlockEvent) -> str:
        return raw.uuid

    def pages(self, cursor):
        # Kisi's times are to the second: read up to the end of the current one.
        end = (timezone.now() + timedelta(seconds=1)).replace(microsecond=0)
        try:
            since = parse_time(cursor) if cursor else None
        except ValueError:
            since = None
        start = since - OVERLAP if since else end - FIRST_LOOKBACK
        for page in self.connector.client().unlock_events(start=start, end=end):
            if page.next_cursor and page.events:
                latest = max((e.created_at for e in page.events if e.created_at), default=None)
                yield Page(page.events, cursor=latest or cursor)
            else:
                yield Page(page.events, cursor=iso_utc(end))

    def apply(self, records) -> Counts:
        return unlock_events_record(integration=self.connector.integration, events=records)
