"""The inbound syncs: members with their memberships, bookings, and one member (webhooks).

Each page of the vendor is mapped and written with one bulk upsert per kind of record;
the engine commits it with the cursor. Cursors are kept per branch (Glofox location).
"""

import hashlib
import logging
import time
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property

from django.utils import timezone

from clients.models import Client
from clients.services import clients_upsert
from integrations.connectors import CatalogueEntry
from integrations.errors import PermanentError, VendorError
from integrations.glofox.client import Booking as GlofoxBooking  # packages.models has a Booking
from integrations.glofox.client import Credit, GlofoxClient, Member, pages_walk
from integrations.glofox.mapping import BOOKED_KINDS, BookingMapped, MemberMapped, booking_map, member_map
from integrations.glofox.models import GlofoxConfiguration
from integrations.glofox.services import configuration_booked_packages_add, configuration_rules_apply
from integrations.sync import Counts, Page, SyncJob
from packages.models import Booking, ClassSession, ClientPackage, Package
from packages.records import BookingRecord, ClassSessionRecord, ClientPackageRecord
from packages.services import (
    bookings_upsert,
    class_sessions_upsert,
    client_packages_expire,
    client_packages_upsert,
    packages_create_missing,
)

logger = logging.getLogger("gatehouse.glofox")

# Each incremental pass re-reads this many seconds before the last one's start, so a
# clock difference between Glofox and us, or a write committed late there, is not lost.
OVERLAP_SECONDS = 120
FULL_PASS_SECONDS = 24 * 3600  # a branch's members are read in full once a day
WINDOW_AHEAD = timedelta(hours=24)  # bookings of classes starting within this are re-read
WINDOW_BEHIND = timedelta(hours=3)  # the first window pass also takes classes under way


@dataclass(frozen=True)
class Row:
    """A vendor record (the client's Member or Booking) and the configuration (branch) it
    came from; a member read alone may bring its credit packs."""

    configuration_id: int
    record: Member | GlofoxBooking
    credits: list[Credit] | None = None


@dataclass
class GlofoxJob(SyncJob):
    """What the Glofox syncs share: configurations, the client, mapping rows."""

    reads_all_on_initial = False  # whether an initial sync starts its branches afresh
    healed: set[int] = field(default_factory=set)  # clients whose access rules_heal changed, not yet reported

    @classmethod
    def starts_fresh(cls, options: dict) -> bool:
        # One location's initial sync starts only its branches afresh (branch_states).
        return cls.reads_all_on_initial and bool(options.get("initial")) and not options.get("location")

    @cached_property
    def now(self):
        return timezone.now()

    @cached_property
    def all_configurations(self) -> dict[int, GlofoxConfiguration]:
        found = (GlofoxConfiguration.objects.filter(integration=self.connector.integration)
                 .select_related("kisi_place__location", "kisi_group").order_by("pk"))
        return {c.pk: c for c in found if c.location_id is not None}

    @cached_property
    def configurations(self) -> dict[int, GlofoxConfiguration]:
        """The configurations this run reads: all, or an initial sync's one location's."""
        location = self.options.get("location") if self.options.get("initial") else None
        if not location:
            return self.all_configurations
        chosen = {pk: c for pk, c in self.all_configurations.items() if c.kisi_place.location.alt_id == location}
        if not chosen:
            raise PermanentError(f"No Glofox configuration maps a branch to the location {location!r}.")
        return chosen

    def branch_states(self, cursor) -> dict:
        """The stored per-branch cursor, less the branches this run starts afresh (an initial
        sync of one location); other branches keep theirs."""
        known = {c.branch_id for c in self.all_configurations.values()}
        state = {b: v for b, v in (cursor or {}).items() if b in known}
        if self.options.get("initial"):
            for configuration in self.configurations.values():
                state.pop(configuration.branch_id, None)
        return state

    @cached_property
    def client(self) -> GlofoxClient:
        return self.connector.client()

    @cached_property
    def source(self) -> str:
        return self.connector.integration.source

    def zone(self, configuration) -> zoneinfo.ZoneInfo:
        try:
            return zoneinfo.ZoneInfo(configuration.zone_name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo("UTC")

    def record_key(self, raw) -> str:
        return raw.record.id if isinstance(raw, Row) else ""

    def map(self, raw: Row):
        """The row's record as a neutral one; a bad one raises BadRecord with the vendor's body."""
        configuration = self.configurations[raw.configuration_id]
        if isinstance(raw.record, Member):
            return member_map(raw.record, configuration=configuration, now=self.now, credits=raw.credits)
        return booking_map(raw.record, configuration=configuration, zone=self.zone(configuration))

    def apply(self, records: list) -> Counts:
        members = [r for r in records if isinstance(r, MemberMapped)]
        bookings = [r for r in records if isinstance(r, BookingMapped)]
        counts = self.members_write(members) if members else Counts()
        counts = counts + self.bookings_write(bookings) if bookings else counts
        # Rules healed while the pages were read: their clients go with the next page.
        counts.changed_clients |= self.healed
        self.healed = set()
        return counts

    def finish(self, run) -> set[int]:
        return self.healed  # healed rules no page took along

    # writers ----------------------------------------------------------------
    def members_write(self, rows: list[MemberMapped]) -> Counts:
        """Clients, then the client packages of their memberships; older ones expire.

        A membership type with no package gets one here (named and kinded from the
        member's membership), so Glofox memberships never wait in integrations.pending."""
        rows = list({r.client.external_id: r for r in rows}.values())
        clients = clients_upsert(source=self.source, records=[r.client for r in rows])
        held = [r for r in rows
                if r.membership and not r.client.deleted and r.client.external_id in clients.ids]
        entries = {r.membership.package_alt_id: CatalogueEntry(
            alt_id=r.membership.package_alt_id, name=r.membership.package_name,
            kind=r.membership.package_kind) for r in held}
        packages_create_missing(entries=list(entries.values()))
        package_ids = dict(Package.objects.filter(alt_id__in=entries).values_list("alt_id", "pk"))
        booked = self._booking_rules_extend(held, package_ids)
        credits = dict(ClientPackage.objects.filter(
            source=self.source, alt_id__in=[r.membership.alt_id for r in held],
        ).values_list("alt_id", "credits_remaining"))
        written = client_packages_upsert(source=self.source, records=[ClientPackageRecord(
            alt_id=r.membership.alt_id, client_id=clients.ids[r.client.external_id],
            package_id=package_ids[r.membership.package_alt_id], start=r.membership.start,
            end=r.membership.end,
            status=r.membership.status, location_id=self.configurations[r.configuration_id].location_id,
            credits_remaining=r.credits if r.credits is not None else credits.get(r.membership.alt_id),
        ) for r in held])
        expired = self._older_packages_expire(rows, clients.ids, {r.membership.alt_id for r in held})
        others = (written.changed_client_ids | expired) - clients.changed_client_ids
        updated = clients.updated + len(others)
        return Counts(created=clients.created, updated=updated, skipped=clients.skipped,
                      unchanged=max(0, len(rows) - clients.created - updated - clients.skipped),
                      changed_clients=clients.changed_client_ids | written.changed_client_ids | expired | booked)

    def _booking_rules_extend(self, held: list[MemberMapped], package_ids: dict[str, int]) -> set[int]:
        """Credit packs and PAYG memberships seen on members join their branch's booking rule;
        returns the clients whose access changed."""
        wanted = defaultdict(set)
        for row in held:
            configuration = self.configurations[row.configuration_id]
            if configuration.bookings_enabled and row.membership.package_kind in BOOKED_KINDS:
                wanted[configuration.pk].add(package_ids[row.membership.package_alt_id])
        changed = set()
        for configuration_id, ids in wanted.items():
            changed |= configuration_booked_packages_add(
                configuration=self.configurations[configuration_id], package_ids=ids)
        return changed

    def rules_heal(self, configuration: GlofoxConfiguration) -> None:
        """Set the access rules the configuration implies, as its save does, so a save made
        while Glofox could not list the catalogue (no booking rule) heals on the next sync."""
        memberships = None
        if configuration.bookings_enabled:  # the catalogue names the branch's credit packs and PAYG
            try:
                memberships = self.client.memberships(branch=configuration.branch_id)
            except VendorError as error:
                logger.warning("integration=%s branch=%s catalogue unreadable, rules kept from what is known: %s",
                               self.connector.integration.pk, configuration.branch_id, error)
        self.healed |= configuration_rules_apply(configuration=configuration, memberships=memberships)

    def _older_packages_expire(self, rows: list[MemberMapped], client_ids: dict[str, int],
                               current: set[str]) -> set[int]:
        """A member's other active Glofox packages at this branch's location have ended."""
        location_of = {client_ids[r.client.external_id]: self.configurations[r.configuration_id].location_id
                       for r in rows if r.client.external_id in client_ids}
        stale = [alt_id for alt_id, client_id, location_id in ClientPackage.objects.filter(
            source=self.source, client_id__in=location_of, status=ClientPackage.Status.ACTIVE,
        ).exclude(alt_id__in=current).values_list("alt_id", "client_id", "location_id")
            if location_of.get(client_id) == location_id]
        return client_packages_expire(source=self.source, alt_ids=stale) if stale else set()

    def bookings_write(self, rows: list[BookingMapped]) -> Counts:
        """Classes, then bookings; a class that moved changes its bookers' windows."""
        rows = list({r.external_id: r for r in rows}.values())
        clients = dict(Client.all_objects.filter(
            source=self.source, external_id__in={r.member_id for r in rows}).values_list("external_id", "id"))
        sessions = {r.session_id: ClassSessionRecord(
            external_id=r.session_id, name=r.session_name, start=r.start, end=r.end,
            location_id=self.configurations[r.configuration_id].location_id) for r in rows}
        before = {ext: (start, end) for ext, start, end in ClassSession.objects.filter(
            source=self.source, external_id__in=sessions).values_list("external_id", "start", "end")}
        class_sessions_upsert(source=self.source, records=list(sessions.values()))
        moved = [ext for ext, s in sessions.items() if ext in before and before[ext] != (s.start, s.end)]
        changed = set()
        if moved:
            changed = set(Booking.objects.filter(
                source=self.source, session__source=self.source, session__external_id__in=moved,
            ).values_list("client_id", flat=True))
        records = [BookingRecord(external_id=r.external_id, session_external_id=r.session_id,
                                 client_id=clients[r.member_id], status=r.status, attended=r.attended)
                   for r in rows if r.member_id in clients]
        result = bookings_upsert(source=self.source, records=records)
        return Counts(created=result.created, updated=result.updated, unchanged=result.unchanged,
                      skipped=len(rows) - len(records), changed_clients=changed | result.changed_client_ids)


class MembersSync(GlofoxJob):
    """Every client of each configured branch, incrementally by modified date.

    Cursor per branch: {"since": unix, "full_at": unix, "terms": text} at rest; during a
    pass also "until" and "page", so a failed run resumes at its last committed page.
    A branch is read in full when its configuration's terms changed (other membership
    types selected: members nobody modified now hold packages that count), and once a
    day, since webhooks and modified dates can miss a change. Every run first sets the
    access rules each configuration implies (rules_heal).
    """

    written_models = (Client, ClientPackage)  # their statistics are refreshed as a load grows

    reads_all_on_initial = True

    def pages(self, cursor):
        state = self.branch_states(cursor)
        for configuration in self.configurations.values():
            self.rules_heal(configuration)
            branch, now = configuration.branch_id, int(time.time())
            mine, terms = dict(state.get(branch) or {}), configuration_terms(configuration)
            if "until" not in mine or mine.get("terms") != terms:
                full = mine.get("terms") != terms or now - mine.get("full_at", 0) > FULL_PASS_SECONDS
                mine = {"since": None if full else mine.get("since"), "until": now, "page": 1, "terms": terms,
                        "full_at": now if full else mine.get("full_at", now)}

            def fetch(number, branch=branch, mine=mine):
                return self.client.members_page(branch=branch, page=number, modified_from=mine["since"],
                                                modified_to=mine["until"])

            for page, following in pages_walk(fetch, mine["page"]):
                state[branch] = ({**mine, "page": following} if following else
                                 {"since": mine["until"] - OVERLAP_SECONDS, "full_at": mine["full_at"],
                                  "terms": terms})
                yield Page([Row(configuration.pk, m) for m in page.items], cursor=dict(state),
                           total=page.total)


def configuration_terms(configuration) -> str:
    """What decides which memberships count, as a short text (a change means a full pass)."""
    chosen = ",".join(sorted(str(m) for m in configuration.membership_types))
    return hashlib.sha256(f"{chosen}|{configuration.bookings_enabled}".encode()).hexdigest()[:12]


class BookingsSync(GlofoxJob):
    """Bookings by modified date, and by the coming window as classes enter it.

    Cursor per branch: {"since": unix, "window_to": unix}; during a pass also "phase",
    "page" and the pass's bounds. The first run reads no history: it starts the
    modified pass now and reads the window from classes under way to 24 hours ahead.
    Members a page's bookings name whom Gatehouse does not know yet come with it (referred).

    With the option "window_rescan" (and optionally "branch_id") a run reads the whole
    coming window again and leaves the cursor as it was: "sync this member now" and a
    retried issue use it, so a member placed late (their record was malformed when their
    bookings were first read) gets the bookings read before they existed.
    """

    written_models = (ClassSession, Booking)  # their statistics are refreshed as a load grows

    reads_all_on_initial = True

    def pages(self, cursor):
        if self.options.get("window_rescan"):
            yield from self._window_rescan(cursor)
            return
        state = self.branch_states(cursor)
        for configuration in self.configurations.values():
            branch = configuration.branch_id
            for records, mine in self._branch_pages(configuration, dict(state.get(branch) or {})):
                state[branch] = mine
                yield Page(records, cursor=dict(state))

    def _branch_pages(self, configuration, mine: dict):
        branch, now = configuration.branch_id, int(time.time())
        if mine.get("phase") != "window":
            if mine.get("since") is None and mine.get("phase") is None:
                mine = {"since": now - OVERLAP_SECONDS, "window_to": mine.get("window_to")}
            else:
                started, since = mine.get("started", now), mine["since"]
                for page, following in pages_walk(
                        lambda n: self.client.bookings_page(branch=branch, page=n, modified_from=since),
                        mine.get("page", 1) if mine.get("phase") == "modified" else 1):
                    mine = ({**mine, "phase": "modified", "started": started, "page": following} if following
                            else {"since": started - OVERLAP_SECONDS, "window_to": mine.get("window_to")})
                    yield [Row(configuration.pk, b) for b in page.items], mine
        if mine.get("phase") == "window":
            low, high, first = mine["from"], mine["to"], mine["page"]
        else:
            low = mine.get("window_to") or int((self.now - WINDOW_BEHIND).timestamp())
            high, first = int((self.now + WINDOW_AHEAD).timestamp()), 1
        rest = {"since": mine["since"], "window_to": high}
        if high <= low:
            yield [], rest
            return
        def fetch(number):
            return self.client.bookings_page(branch=branch, page=number, start_from=low, start_to=high)

        for page, following in pages_walk(fetch, first):
            going = {**rest, "phase": "window", "from": low, "to": high, "page": following}
            yield [Row(configuration.pk, b) for b in page.items], going if following else rest

    def _window_rescan(self, cursor):
        low = int((self.now - WINDOW_BEHIND).timestamp())
        high = int((self.now + WINDOW_AHEAD).timestamp())
        branch_only = self.options.get("branch_id")
        for configuration in self.configurations.values():
            if branch_only and configuration.branch_id != branch_only:
                continue

            def fetch(number, branch=configuration.branch_id):
                return self.client.bookings_page(branch=branch, page=number, start_from=low, start_to=high)

            for page, _following in pages_walk(fetch):
                yield Page([Row(configuration.pk, b) for b in page.items], cursor=cursor)

    def referred(self, raws: list[Row]) -> list[Row]:
        """The members of the page's bookings whom Gatehouse does not know yet, read from
        their branch now; the engine writes them before the bookings that need them."""
        wanted = defaultdict(set)  # configuration -> member ids its bookings name
        for row in raws:
            if isinstance(row.record, GlofoxBooking) and row.record.member_id:
                wanted[row.configuration_id].add(row.record.member_id)
        if not wanted:
            return []
        known = set(Client.all_objects.filter(source=self.source, external_id__in=set().union(*wanted.values()))
                    .values_list("external_id", flat=True))
        fetched = [(pk, self.client.member(branch=self.configurations[pk].branch_id, member_id=member_id))
                   for pk, ids in wanted.items() for member_id in sorted(ids - known)]
        return [Row(pk, member) for pk, member in fetched if member]


class MemberSync(GlofoxJob):
    """One member of one branch, at once (a Glofox webhook named them)."""

    @property
    def state_name(self) -> str:
        # One lane per member, so webhooks for different members never wait on each other.
        return f"member:{self.options.get('member_id', '')}"[:50]

    def pages(self, cursor):
        branch, member_id = self.options.get("branch_id"), self.options.get("member_id")
        configuration = next((c for c in self.configurations.values() if c.branch_id == branch), None)
        if configuration is None or not member_id:
            return
        member = self.client.member(branch=branch, member_id=str(member_id))
        if member is None:
            return
        credits = None
        if member.membership and member.membership.type.lower() == "num_classes":  # its balance, one call
            credits = self.client.credits(branch=branch, user_id=str(member_id))
        yield Page([Row(configuration.pk, member, credits)], cursor=None, total=1)
