"""The door access sync: Gladstone attendances -> DoorAccess rows on the site's door.

Per site (a Door whose door id is the SiteID), attendances are read in windows of at
most a day from where the last run got to (a site's first run reads back the
"first_lookback_days" setting). Each window starts a little before that point, so an
entry Gladstone records late is still read; entries already stored are skipped by their
reference (site and AttendanceID). A granted entry marks the client's bookings attended
within the "attendance_minutes" setting (Perfect Gym's setting, with its default).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import F
from django.utils import timezone

from accessctl.models import Door
from accessctl.services import DoorEntry, door_accesses_record
from clients.models import Client
from integrations.errors import BadRecord
from integrations.gladstone.mapping import AccessFacts, access_facts
from integrations.sync import Counts, Page, SyncJob
from packages.services import ATTENDANCE_BEFORE_START

WINDOW = timedelta(days=1)  # the longest span asked for at once (bounds a page)
OVERLAP = timedelta(minutes=15)  # re-read this much before the cursor: late entries
FIRST_LOOKBACK_DAYS = 7  # default of "first_lookback_days": how far back a site's first run reads
ATTENDANCE_MINUTES = int(ATTENDANCE_BEFORE_START.total_seconds() // 60)  # Perfect Gym's default too


def door_sites(*, only: str | None = None) -> dict[str, Door]:
    """The active doors whose door id is their location's alt id (the SiteID), by SiteID."""
    doors = Door.objects.filter(is_active=True, door_id=F("location__alt_id")).select_related("location")
    if only:
        doors = doors.filter(door_id=only)
    return {door.door_id: door for door in doors}


@dataclass
class AccessesSync(SyncJob):
    """Cursor: {SiteID: ISO time up to which that site's attendances were read}."""

    doors: dict[str, Door] = field(init=False)
    first_lookback: timedelta = field(init=False)
    before_start: timedelta = field(init=False)

    def __post_init__(self):
        self.doors = door_sites(only=self.options.get("location"))
        self.first_lookback = timedelta(days=self.connector.setting_int("first_lookback_days", FIRST_LOOKBACK_DAYS))
        self.before_start = timedelta(minutes=self.connector.setting_int("attendance_minutes", ATTENDANCE_MINUTES))

    def pages(self, cursor):
        client = self.connector.client()
        reached = dict(cursor or {})
        now = timezone.now()
        for site_id, door in sorted(self.doors.items()):
            zone = door.location.zone
            since = datetime.fromisoformat(reached[site_id]) if site_id in reached else now - self.first_lookback
            while since < now:
                until = min(now, since + WINDOW)
                attendances = client.attendances(
                    site_id=site_id,
                    since=_local(since - OVERLAP, zone),
                    until=_local(until, zone),
                )
                reached[site_id] = until.isoformat()
                yield Page([(site_id, a) for a in attendances], cursor=dict(reached))
                since = until

    def record_key(self, raw) -> str:
        site_id, attendance = raw
        return f"{site_id}-{attendance.attendance_id}"

    def map(self, raw) -> AccessFacts:
        site_id, attendance = raw
        try:
            return access_facts(attendance, site_id=site_id, zone=self.doors[site_id].location.zone)
        except BadRecord as error:
            raise BadRecord(error.reason, key=error.key, payload=attendance.as_payload()) from None

    def apply(self, records: list[AccessFacts]) -> Counts:
        source = self.connector.integration.source
        clients = dict(
            Client.objects.filter(source=source, external_id__in={r.member_id for r in records}).values_list(
                "external_id", "id"
            )
        )
        entries = [
            DoorEntry(
                client_id=clients[r.member_id],
                door=self.doors[r.site_id],
                accessed_at=r.accessed_at,
                granted=r.granted,
                source_ref=r.source_ref,
            )
            for r in records
            if r.member_id in clients
        ]
        created = door_accesses_record(source=source, integration_id=self.connector.integration.pk, entries=entries,
                                       before_start=self.before_start)
        return Counts(
            created=len(created), unchanged=len(entries) - len(created), skipped=len(records) - len(entries)
        )


def _local(moment: datetime, zone) -> datetime:
    """A UTC moment as the naive local time Gladstone expects."""
    return moment.astimezone(zone).replace(tzinfo=None)
