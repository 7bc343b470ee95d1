"""Momence's inbound syncs: tags, members, the membership catalogue, bought memberships,
sessions with their bookings, and appointments. One bulk write per page.

Momence v2 has no modified-since filter and no webhooks, so every inbound sync is a
rescan: its cursor is the next page of the scan in progress (a failed run resumes
there) and goes back to None when the scan completes.
"""

from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from clients import lookups  # noqa: F401 - registers field__any (one array parameter)
from clients.models import Client
from clients.services import client_tags_set, clients_upsert
from integrations.errors import BadRecord
from integrations.fetching import fetched_pages
from integrations.models import SyncState
from integrations.momence import mapping
from integrations.momence.client import NotFound, TokenRefused
from integrations.momence.records import BoughtMembership, SessionBookings
from integrations.momence.selectors import members_due_for_memberships, momence_tag_ids, tag_pairs_unsent
from integrations.momence.services import momence_members_checked, momence_members_upsert, momence_tags_upsert
from integrations.pending import Waiting, pending_records_replace, pending_report
from integrations.sync import Counts, Page, SyncJob
from packages.models import Booking, ClassSession, ClientPackage, Package
from packages.records import BookingRecord
from packages.services import (
    bookings_cancel_missing,
    bookings_upsert,
    class_sessions_upsert,
    client_packages_expire,
    client_packages_upsert,
    package_tags_import,
    packages_upsert,
)

# Bought memberships are one call per member: a page of 200 commits at least every 40 s
# at the client's pacing (integrations.momence.client.RATE_PER_SECOND), well inside a lease.
MEMBERS_PER_PAGE = 200
FETCH_THREADS = 8  # bought-membership calls in flight at once (all paced together)
# Members pages (100) are written ten to a transaction (SyncJob.page_rows): the per-page
# look-ups, cursor, counters and commit then cost a tenth as much per member.
MEMBERS_PER_COMMIT = 1000
STALE_MEMBERSHIPS = timedelta(hours=24)  # re-read everyone's memberships at least this often


def outbox_position(cursor) -> int:
    """The last source row id an outbound sync's cursor has read (see outbound.py)."""
    return int(cursor["id"]) if cursor else 0


class MomenceJob(SyncJob):
    @property
    def integration(self):
        return self.connector.integration

    @property
    def source(self) -> str:
        return self.integration.source

    def record_key(self, raw) -> str:
        return super().record_key(raw.payload)  # the id as sent, even one mapping refuses

    @staticmethod
    def scan_pages(lists, make_cursor):
        """Pages of a rescan: the cursor names the next page, None once the scan is done."""
        for answer in lists:
            yield Page(answer.items, cursor=None if answer.is_last else make_cursor(answer.page + 1),
                       total=answer.total)


def _counts(*results) -> Counts:
    return Counts(created=sum(r.created for r in results), updated=sum(r.updated for r in results),
                  unchanged=sum(r.unchanged for r in results), skipped=sum(r.skipped for r in results))


class TagsSync(MomenceJob):
    """Momence's customer tags -> Gatehouse tags of the same name (the tags Momence manages)."""

    def pages(self, cursor):
        return self.scan_pages(self.connector.client().tags(start=(cursor or {}).get("page", 0)),
                               lambda page: {"page": page})

    def map(self, raw):
        return mapping.tag_pair(raw)

    def apply(self, records):
        created, updated, unchanged = momence_tags_upsert(integration=self.integration, tags=dict(records))
        return Counts(created=created, updated=updated, unchanged=unchanged)


class MembersSync(MomenceJob):
    """Members -> clients, with their customer tags; remembers when Momence last saw each."""

    written_models = (Client,)  # their statistics are refreshed as a load grows

    reading_since: datetime | None = None  # when the first page not yet written was asked for
    fetched_at: datetime | None = None  # the same, for the pages being written

    @property
    def page_rows(self) -> int:
        return MEMBERS_PER_COMMIT  # read when the run starts: a test may change it

    def pages(self, cursor):
        client = self.connector.client()
        lists = client.members(start=(cursor or {}).get("page", 0))
        while True:
            if self.reading_since is None:
                self.reading_since = timezone.now()  # tags pushed after this are newer than the pages
            try:
                answer = next(lists)
            except StopIteration:
                return
            yield Page(answer.items, cursor=None if answer.is_last else {"page": answer.page + 1},
                       total=answer.total)

    def prepare(self, raws):
        # The engine writes several pages at once: what they say of tags is as old as the first.
        self.fetched_at, self.reading_since = self.reading_since, None

    def map(self, raw):
        return mapping.member_row(raw)

    def apply(self, records):
        result = clients_upsert(source=self.source, records=[r.record for r in records])
        seen_tags = {tag_id: name for r in records for tag_id, name in r.tags.items()}
        momence_tags_upsert(integration=self.integration, tags=seen_tags)
        tag_of = momence_tag_ids(integration=self.integration)
        client_ids = [result.ids[r.record.external_id] for r in records if r.record.external_id in result.ids]
        push_state = SyncState.objects.filter(integration=self.integration, sync_name="tag-push").first()
        keep = tag_pairs_unsent(integration=self.integration, client_ids=client_ids,
                                after_change=outbox_position(push_state.cursor if push_state else None),
                                sent_since=self.fetched_at or timezone.now())
        tagged = client_tags_set(
            tags={result.ids[r.record.external_id]: {tag_of[t] for t in r.tags if t in tag_of}
                  for r in records if r.record.external_id in result.ids},
            managed=set(tag_of.values()), keep=keep, reason="Momence customer tags", source=self.source,
        )
        momence_members_upsert(integration=self.integration, members={
            r.record.external_id: (result.ids[r.record.external_id], r.last_seen)
            for r in records if r.record.external_id in result.ids
        })
        counts = _counts(result)
        counts.changed_clients = result.changed_client_ids | tagged
        retagged_only = len(tagged - result.changed_client_ids)  # a tag change updates the client too
        counts.updated += retagged_only
        counts.unchanged -= retagged_only
        return counts


class MembershipsSync(MomenceJob):
    """The membership catalogue -> packages (alt id momence_<id>) with their kinds, and
    the membership's tags on its package: tags Momence drops go, tags added in Gatehouse stay."""

    retagged: int = 0

    def pages(self, cursor):
        yield Page(self.connector.client().memberships(), cursor=None)

    def map(self, raw):
        return mapping.membership_row(raw)

    def apply(self, records):
        result = packages_upsert(entries=[r.entry for r in records])
        tagged = [r for r in records if r.tags is not None]
        momence_tags_upsert(integration=self.integration,
                            tags={tag_id: name for r in tagged for tag_id, name in r.tags.items()})
        tag_of = momence_tag_ids(integration=self.integration)
        self.retagged += len(package_tags_import(
            source=self.source, source_label=f"{self.connector.label} ({self.integration.name})",
            tags={result.ids[r.entry.alt_id]: {tag_of[t] for t in r.tags if t in tag_of} for r in tagged}))
        return _counts(result)

    def finish(self, run):
        if self.retagged:
            run.report = f"The tags of {self.retagged} package(s) follow their Momence memberships' tags now."


@dataclass(frozen=True)
class MemberMemberships:
    """One member's active bought memberships, as read for them (one call each)."""

    member_id: str
    client_id: int
    items: list[BoughtMembership]
    last_seen: datetime | None = None

    @property
    def payload(self) -> dict:
        """What a sync issue keeps: the member and the bodies Momence sent."""
        return {"member_id": self.member_id, "client_id": self.client_id,
                "items": [item.payload for item in self.items],
                "last_seen": self.last_seen.isoformat() if self.last_seen else None}


class BoughtMembershipsSync(MomenceJob):
    """Active bought memberships -> client packages with the credits left.

    One call per member, so each run reads a bounded number of members, FETCH_THREADS
    at a time, paced by the HTTP layer (the next page is read while one is written):
    first those never read, then those Momence saw since their last read
    (lastSeen moved), then those read longest ago (at least daily). An initial sync
    reads everyone. A package Momence no longer lists as active is expired.
    """

    written_models = (ClientPackage,)  # their statistics are refreshed as a load grows

    packages: dict[str, tuple[int, str]] | None = None
    waited: int = 0  # bought memberships this run read without their package

    def record_key(self, raw: MemberMemberships):
        return raw.member_id

    def pages(self, cursor):
        client = self.connector.client()
        limit = None if self.options.get("initial") else self.connector.memberships_per_run()
        due = members_due_for_memberships(integration=self.integration, limit=limit,
                                          stale_after=STALE_MEMBERSHIPS)
        if self.options.get("members"):
            wanted = {str(m) for m in self.options["members"]}
            due = [row for row in due if row[0] in wanted]

        taken: deque[list] = deque()  # the rows of the chunks handed out, oldest first

        def chunks():
            for start in range(0, len(due), MEMBERS_PER_PAGE):
                client.access_token()  # refreshed here, with the database, not in a fetching thread
                taken.append(due[start:start + MEMBERS_PER_PAGE])
                yield taken[-1]

        def fetch(row) -> MemberMemberships | TokenRefused:
            member_id, client_id, last_seen = row
            try:
                items = client.bought_memberships(member_id)
            except NotFound:
                items = []  # the member is gone from Momence: nothing of theirs is active
            except TokenRefused as refused:
                return refused  # renewed below, in this run's thread, with the database
            return MemberMemberships(member_id, client_id, items, last_seen)

        def asked_again(rows: list, fetched: list) -> list[MemberMemberships]:
            """The page, its members whose token Momence refused read again with a new one."""
            refused = [r for r in fetched if isinstance(r, TokenRefused)]
            if refused:
                client.access_token(stale=refused[0].token)
            return [fetch(row) if isinstance(r, TokenRefused) else r for row, r in zip(rows, fetched, strict=True)]

        with ThreadPoolExecutor(max_workers=FETCH_THREADS, thread_name_prefix="momence") as pool:
            for fetched in fetched_pages(pool, fetch, chunks()):
                yield Page(asked_again(taken.popleft(), fetched), cursor=None, total=len(due))

    def map(self, raw: MemberMemberships):
        if self.packages is None:
            rows = Package.objects.filter(alt_id__startswith="momence_").values_list("alt_id", "pk", "kind")
            self.packages = {alt_id: (pk, kind) for alt_id, pk, kind in rows}
        with mapping.judged(raw.payload):  # an issue keeps all the member's bought memberships
            records = [mapping.client_package(item, key=raw.member_id, client_id=raw.client_id,
                                              packages=self.packages) for item in raw.items]
        return raw.member_id, raw.client_id, raw.last_seen, records

    def apply(self, records):
        held = [p for _, _, _, items in records for p in items]
        packages = [p for p in held if not isinstance(p, Waiting)]
        waiting = [p for p in held if isinstance(p, Waiting)]
        result = client_packages_upsert(source=self.source, records=packages)
        # A member's list read again replaces what of theirs was waiting for a package.
        placed = pending_records_replace(integration=self.integration, waiting=waiting,
                                         client_ids=[client_id for _, client_id, _, _ in records])
        self.waited += len(waiting)
        listed = {p.alt_id for p in packages} | {w.reference for w in waiting}
        active = ClientPackage.objects.filter(
            source=self.source, client_id__any=[client_id for _, client_id, _, _ in records],
            status=ClientPackage.Status.ACTIVE,
        ).values_list("alt_id", flat=True)
        gone = [alt_id for alt_id in active if alt_id not in listed]
        expired = client_packages_expire(source=self.source, alt_ids=gone)
        momence_members_checked(integration=self.integration, members={
            member_id: (client_id, last_seen) for member_id, client_id, last_seen, _ in records})
        counts = _counts(result)
        counts.changed_clients = result.changed_client_ids | expired | placed.changed_client_ids
        counts.updated += len(gone)
        counts.skipped += len(waiting)
        return counts

    def finish(self, run):
        waiting = pending_report(integration=self.integration, noun="bought membership") if self.waited else ""
        if waiting:
            run.report = f"Bought memberships whose membership has no package yet:\n{waiting}"


class WindowSync(MomenceJob):
    """A rescan of a time window (from a day ago to `days_ahead`) of slots and bookings.

    A complete scan cancels the bookings of the window Momence no longer lists.
    """

    written_models = (ClassSession, Booking)  # their statistics are refreshed as a load grows

    prefix = ""

    def window(self, cursor) -> tuple[datetime, datetime]:
        if cursor and cursor.get("from"):
            return datetime.fromisoformat(cursor["from"]), datetime.fromisoformat(cursor["until"])
        now = timezone.now().replace(microsecond=0)
        return now - timedelta(days=1), now + timedelta(days=self.connector.days_ahead())

    def scan(self, cursor, lists, to_raw):
        start, until = self.window(cursor)
        self.complete, self.seen, self.span = not cursor, set(), (start, until)
        for answer in lists(start_after=start, start_before=until, start=(cursor or {}).get("page", 0)):
            raws = [to_raw(item) for item in answer.items]
            self.seen |= {ref for raw in raws for ref in self.refs(raw)}
            next_cursor = {"page": answer.page + 1, "from": start.isoformat(), "until": until.isoformat()}
            yield Page(raws, cursor=None if answer.is_last else next_cursor, total=answer.total)

    def refs(self, raw) -> list[str]:
        """The booking external ids a raw record stands for, read before mapping."""
        return []

    def map(self, raw):
        try:
            return self.row(raw, location_id=self.connector.location_id())
        except BadRecord:
            self.complete = False  # an unreadable record: its bookings cannot be told gone
            raise

    def apply(self, records):
        sessions = class_sessions_upsert(source=self.source, records=[r.session for r in records])
        bookings = [b for r in records for b in r.bookings]
        members = {b.member_id for b in bookings}
        clients = dict(Client.all_objects.filter(source=self.source, external_id__any=members)
                       .values_list("external_id", "pk"))
        known = [BookingRecord(external_id=b.external_id, session_external_id=b.session_external_id,
                               client_id=clients[b.member_id], status=b.status, attended=b.attended)
                 for b in bookings if b.member_id in clients]
        result = bookings_upsert(source=self.source, records=known)
        counts = _counts(sessions, result)
        counts.changed_clients = set(result.changed_client_ids)
        counts.skipped += len(bookings) - len(known)  # members not synced yet: next run
        return counts

    def finish(self, run):
        if not getattr(self, "complete", False):
            return set()
        gone = bookings_cancel_missing(source=self.source, prefix=self.prefix, start_from=self.span[0],
                                       start_until=self.span[1], seen=self.seen)
        if gone:
            run.report = f"Cancelled the bookings of {len(gone)} client(s) that Momence no longer lists."
        return gone


class SessionsSync(WindowSync):
    """Sessions and their bookings -> class sessions and bookings."""

    prefix = mapping.BOOKING_PREFIX
    row = staticmethod(mapping.session_row)

    def pages(self, cursor):
        client = self.connector.client()

        def with_bookings(session):
            try:
                bookings = client.session_bookings(session.id) if session.id else []
            except NotFound:
                bookings = []  # deleted since it was listed: its bookings are gone too
            return SessionBookings(session, tuple(bookings))

        return self.scan(cursor, client.sessions, with_bookings)

    def record_key(self, raw: SessionBookings):
        return super().record_key(raw.session)

    def refs(self, raw: SessionBookings):
        return [mapping.BOOKING_PREFIX + b.id for b in raw.bookings if b.id]


class AppointmentsSync(WindowSync):
    """Appointment reservations -> one class session (named after its type) and one booking each."""

    prefix = mapping.APPOINTMENT_PREFIX
    row = staticmethod(mapping.appointment_row)

    def pages(self, cursor):
        return self.scan(cursor, self.connector.client().appointments, lambda item: item)

    def refs(self, raw):
        return [mapping.APPOINTMENT_PREFIX + raw.id] if raw.id else []
