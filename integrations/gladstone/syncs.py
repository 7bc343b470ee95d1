"""Gladstone's syncs: members (the change queue -> clients and client packages) and door
accesses (attendances -> DoorAccess rows).

Members: Gladstone's change queue -> clients, client packages (with tiers);
an initial sync also re-reads every member Gatehouse holds.

Per batch of the change queue: fetch each changed member and their subscriptions
(Gladstone has no bulk read, so a small thread pool fetches a page's members at once),
map them, write the page with one bulk upsert per kind, and only once the batch's last
page is committed acknowledge it with CleanupMemberChanges. A crash before that
leaves the changes queued, and the next run reads them again.

Accesses: Gladstone attendances -> DoorAccess rows on the site's door.

Per site (a Door whose door id is the SiteID), attendances are read in windows of at
most a day from where the last run got to (a site's first run reads back the
"first_lookback_days" setting). Each window starts a little before that point, so an
entry Gladstone records late is still read; entries already stored are skipped by their
reference (site and AttendanceID). A granted entry marks the client's bookings attended
within the "attendance_minutes" setting (Perfect Gym's setting, with its default).
"""

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import F
from django.utils import timezone

from accessctl.models import Door, DoorAccess
from accessctl.services import DoorEntry, door_accesses_record
from clients.models import Client, Location
from clients.records import ClientRecord
from clients.services import clients_upsert
from integrations.errors import BadRecord, PermanentError
from integrations.fetching import fetched_pages, forks_for
from integrations.gladstone.client import Member, Subscription
from integrations.gladstone.mapping import (
    AccessFacts,
    SubscriptionFacts,
    access_facts,
    flag,
    is_under_age,
    member_record,
    subscription_facts,
    tier_alt_id,
)
from integrations.pending import Waiting, pending_records_replace, pending_report
from integrations.sync import Counts, Page, SyncJob
from packages.models import ClientPackage
from packages.services import ATTENDANCE_BEFORE_START, client_packages_upsert

PAGE_SIZE = 200  # members written per transaction
FETCH_THREADS = 8  # per-member calls in flight at once
MAX_REPEATED_BATCHES = 3


@dataclass(frozen=True)
class MemberFetch:
    """What Gladstone said about one changed member."""

    member_id: str
    member: Member | None
    subscriptions: list[Subscription] = field(default_factory=list)
    problem: str = ""  # why there is no member

    def as_payload(self) -> dict:
        return {
            "MemberID": self.member_id,
            "member": self.member.as_payload() if self.member else None,
            "subscriptions": [s.as_payload() for s in self.subscriptions],
        }


@dataclass(frozen=True)
class MemberUpdate:
    """One member mapped: the client, whether it is under age, its subscriptions."""

    client: ClientRecord
    under_age: bool
    subscriptions: list[SubscriptionFacts]


@dataclass
class PackageTally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    unmatched: int = 0  # read without their package or tier: integrations.pending keeps them


@dataclass
class MembersSync(SyncJob):
    """Cursor: {"run_id": the runId of the last change-queue read committed}."""

    written_models = (Client, ClientPackage)  # their statistics are refreshed as a load grows

    tally: PackageTally = field(default_factory=PackageTally)
    today: date = field(default_factory=timezone.localdate)  # for the minimum age
    now: datetime = field(default_factory=timezone.now)  # for "EndDate is past"

    # reading -------------------------------------------------------------------
    def pages(self, cursor):
        """The change queue; an initial sync also re-reads every member Gatehouse holds (the
        contract has no call listing every member: see contract.NO_MEMBER_LIST). With a
        location, an initial sync re-reads only the clients whose home site it is and
        leaves the change queue queued, since acknowledging it would drop other sites' changes."""
        connector = self.connector
        run_id = int((cursor or {}).get("run_id", 0))
        location = self.options.get("location") if self.initial else None
        self.local = threading.local()
        with ThreadPoolExecutor(max_workers=FETCH_THREADS, thread_name_prefix="gladstone") as pool:
            seen: set[str] = set()
            if not location:
                for page in self._queue_pages(connector.client(), pool, run_id):
                    seen |= {f.member_id for f in page.records}
                    run_id = page.cursor["run_id"]
                    yield page
            if self.initial:
                known = Client.objects.filter(source=connector.integration.source)
                if location:
                    if not Location.objects.filter(alt_id=location).exists():
                        raise PermanentError(f"No location has the SiteID {location!r} as its alt ID.")
                    known = known.filter(home_location__alt_id=location)
                member_ids = [m for m in known.order_by("pk").values_list("external_id", flat=True)
                              if m and m not in seen]
                yield from self._fetched_pages(pool, member_ids, {"run_id": run_id})

    @property
    def initial(self) -> bool:
        return bool(self.options.get("initial"))

    def _fetch(self, member_id: str) -> MemberFetch:
        if not member_id.isdigit():
            return MemberFetch(member_id, None, problem=f"Unreadable MemberID {member_id!r} in the change queue.")
        if not hasattr(self.local, "client"):  # one HTTP session per thread
            self.local.client = self.connector.client()
        try:
            member = self.local.client.member(member_id=member_id)
            if member is None or flag(member.is_deleted):
                return MemberFetch(member_id, member)
            return MemberFetch(member_id, member, self.local.client.member_subscriptions(member_id=member_id))
        except PermanentError as error:  # one member Gladstone will not serve must not block the queue
            return MemberFetch(member_id, None, problem=str(error))

    def _fetched_pages(self, pool, member_ids: list[str], cursor: dict):
        """Pages of these members, each fetched while the engine writes the one before."""
        chunks = (member_ids[n : n + PAGE_SIZE] for n in range(0, len(member_ids), PAGE_SIZE))
        forks = forks_for(2 * len(member_ids), in_flight=FETCH_THREADS)  # two calls a member
        yield from (Page(fetched, cursor=cursor) for fetched in fetched_pages(pool, self._fetch, chunks, forks=forks))

    def _queue_pages(self, client, pool, run_id: int):
        system_name = self.connector.settings["system_name"]
        previous, repeats = None, 0
        while True:
            changes = client.member_changes(system_name=system_name, last_run_id=run_id, run_id=run_id + 1)
            if not changes:
                return
            # The same batch again and again: the acknowledgements are not taking effect.
            repeats = repeats + 1 if changes == previous else 0
            if repeats >= MAX_REPEATED_BATCHES:
                raise PermanentError("gladstone: CleanupMemberChanges does not acknowledge the changes read")
            previous, run_id = changes, run_id + 1
            member_ids = list(dict.fromkeys(ch.member_id.strip() for ch in changes))
            yield from self._fetched_pages(pool, member_ids, {"run_id": run_id})
            # The engine commits a page before asking for the next one: here the whole
            # batch is committed, so it is safe to acknowledge.
            client.member_changes_cleanup(system_name=system_name)

    def record_key(self, raw: MemberFetch) -> str:
        return raw.member_id

    def map(self, raw: MemberFetch) -> MemberUpdate:
        try:
            return self._map(raw)
        except BadRecord as error:
            raise BadRecord(error.reason, key=error.key or raw.member_id, payload=raw.as_payload()) from None

    def _map(self, raw: MemberFetch) -> MemberUpdate:
        if raw.member is None:
            raise BadRecord(raw.problem or f"RetrieveMember returned no member {raw.member_id}.")
        look, rules = self.connector.lookups, self.connector.member_rules
        record = member_record(raw.member, rules=rules, sites=look.sites)
        home = look.sites.get(raw.member.site_id.strip())
        subscriptions = [
            subscription_facts(s, index=look.packages, sites=look.sites, home=home) for s in raw.subscriptions
        ]
        return MemberUpdate(
            client=record,
            subscriptions=subscriptions,
            under_age=is_under_age(record.date_of_birth, rules.minimum_age, self.today),
        )

    # writing -------------------------------------------------------------------
    def apply(self, records: list[MemberUpdate]) -> Counts:
        source = self.connector.integration.source
        young = [u.client.external_id for u in records if u.under_age]
        known_young = set()
        if young:
            existing = Client.all_objects.filter(source=source, external_id__in=young)
            known_young = set(existing.values_list("external_id", flat=True))
        # Under the minimum age: not created, but an existing client is kept up to date.
        kept = [u for u in records if not u.under_age or u.client.external_id in known_young]
        result = clients_upsert(source=source, records=[u.client for u in kept], create_inactive=False)
        packages, waiting = [], []
        for update in kept:
            client_id = result.ids.get(update.client.external_id)
            if client_id is None or update.client.deleted:
                continue
            for sub in update.subscriptions:
                if sub.expired(self.now) and sub.package_id is not None:
                    packages.append(sub.record(client_id=client_id, now=self.now))
                elif sub.expired(self.now) or not sub.sub_type_id:
                    continue  # ended: it needs no package
                elif sub.package_id is None or (tier_alt_id(sub.sub_type_id) and sub.tier_id is None):
                    waiting.append(_waiting(sub, client_id))  # placed once its package (or tier) exists
                else:
                    packages.append(sub.record(client_id=client_id, now=self.now))
        held = client_packages_upsert(source=source, records=packages)
        # What this page read replaces what was waiting for these members.
        placed = pending_records_replace(
            integration=self.connector.integration, waiting=waiting,
            client_ids=[result.ids[u.client.external_id] for u in records if u.client.external_id in result.ids],
        )
        self.tally.created += held.created
        self.tally.updated += held.updated
        self.tally.unchanged += held.unchanged
        self.tally.unmatched += len(waiting)
        return Counts(
            created=result.created,
            updated=result.updated,
            unchanged=result.unchanged,
            skipped=result.skipped + len(records) - len(kept),
            changed_clients=result.changed_client_ids | held.changed_client_ids | placed.changed_client_ids,
        )

    def finish(self, run) -> None:
        t = self.tally
        waiting = pending_report(integration=self.connector.integration, noun="subscription")
        run.report = (
            f"Clients: {run.created} created, {run.updated} updated, {run.unchanged} unchanged, "
            f"{run.skipped} not created (inactive, deleted or under the minimum age).\n"
            f"Client packages: {t.created} created, {t.updated} updated, {t.unchanged} unchanged; "
            f"{t.unmatched} subscription(s) read without their package or tier (the daily audit emails "
            "those of the configured SubscriptionTypeGroupIDs)."
            + (f"\nWaiting now:\n{waiting}" if waiting else "")
        )


def _waiting(sub: SubscriptionFacts, client_id: int) -> Waiting:
    """A subscription whose package (or tier) does not exist yet, for integrations.pending."""
    return Waiting(
        reference=sub.ref, client_id=client_id, package=sub.sub_type_id, start=sub.start, end=sub.end,
        location_id=sub.location_id, tier=tier_alt_id(sub.sub_type_id) or "",
    )


# accesses ------------------------------------------------------------------
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

    written_models = (DoorAccess,)  # their statistics are refreshed as a load grows

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
