"""The Perfect Gym syncs: members, contracts and member products (the client sync), and
club visits (the access sync). Each walks its entity set by `version`, its rows typed
records of integrations.perfectgym.client.

A contract, member product or visit may belong to a member the member sync has not
brought yet: `referred()` fetches those members (in a few calls) and the engine puts them
at the head of the page, so they become clients in the page's transaction, before the
rows that need them; they count in the run's report, not in its counters.

An initial sync (options {"initial": True, "location": alt id}) starts from the beginning
under its own cursor, reads only rows that are not deleted, and leaves the ongoing cursor
alone unless that sync never ran: then the ongoing sync starts where the initial began.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from accessctl.models import DoorAccess
from accessctl.services import DoorEntry, door_accesses_record
from clients import lookups  # noqa: F401 - registers field__any (one array parameter)
from clients.models import Client, ClientIdentity, IdentityType
from clients.records import ClientRecord
from clients.services import clients_upsert
from integrations.errors import BadRecord, PermanentError
from integrations.models import SyncState
from integrations.pending import Waiting, pending_records_replace, pending_report
from integrations.perfectgym.client import Member, Row, ids_filter
from integrations.perfectgym.clubs import clubs_load
from integrations.perfectgym.mapping import (
    SKIPPED,
    Holding,
    Skipped,
    Visit,
    contract_holding,
    member_record,
    product_holding,
    visit_row,
)
from integrations.sync import Counts, Page, SyncJob
from packages.models import ClientPackage, Package
from packages.records import ClientPackageRecord
from packages.services import client_packages_upsert

# Vendor pages (500 rows) are written ten to a transaction (SyncJob.page_rows): the
# per-commit work (look-ups, cursor, counters, the commit itself) then costs a tenth as much per row.
ROWS_PER_COMMIT = 5_000
# Vendor pages read ahead while a transaction is written: a transaction's worth and one more.
PAGES_AHEAD = 11
NO_CLUBS = "No location has a Perfect Gym club number yet: enter it in each Location's Integrations section."


def ongoing_cursor_seed(*, integration, sync_name: str, cursor: int) -> bool:
    """Start a sync that never ran at `cursor` (the version an initial sync began from),
    so it does not fetch again what the initial sync loaded. True when it was set."""
    state, _ = SyncState.objects.get_or_create(integration=integration, sync_name=sync_name)
    return bool(SyncState.objects.filter(pk=state.pk, cursor__isnull=True, claimed_by__isnull=True)
                .update(cursor=cursor))


def clients_known(source: str, member_ids) -> dict[str, int]:
    """Client ids of these Perfect Gym members by member id (as text), in one query."""
    return dict(Client.all_objects.filter(source=source, external_id__any=[str(m) for m in member_ids])
                .values_list("external_id", "id"))


# A member fetched for a page whom Perfect Gym returned deleted or unreadable: not kept, not counted.
NOT_RETURNED = Skipped("a member Perfect Gym did not return usable")


@dataclass
class PerfectGymSync(SyncJob):
    """What every Perfect Gym sync shares: scope, cursor walk, report."""

    entity_set = ""
    noun = "rows"

    @classmethod
    def starts_fresh(cls, options: dict) -> bool:
        return bool(options.get("initial"))  # an initial sync reads every row from the beginning

    def __post_init__(self):
        self.unmatched: Counter[str] = Counter()  # package alt id -> rows without a package
        self.unplaced: Counter[str] = Counter()  # of those, rows whose member is no client: they cannot wait
        self.outside: Counter = Counter()  # club id -> rows of clubs on no location
        self.clients_added = 0
        self.high_water: int | None = None
        self.known: dict[str, int] = {}  # member id -> client id, for the current page
        self.fetched: set[int] = set()  # members fetched for the current page who are usable
        self.needed: set[int] = set()  # members the current page's mapped rows are written for

    @property
    def page_rows(self) -> int:
        return ROWS_PER_COMMIT  # read when the run starts: a test may change it

    @property
    def initial(self) -> bool:
        return bool(self.options.get("initial"))

    @property
    def state_name(self) -> str:
        if self.initial:
            return f"{self.name}@initial:{self.options.get('location') or 'all'}"
        return self.name

    @property
    def source(self) -> str:
        return self.connector.integration.source

    def server_filter(self) -> str:
        return "isDeleted eq false" if self.initial else ""

    def start(self) -> None:
        """Read what the whole run needs once: clubs, scope, identity type."""
        self.client = self.connector.client()
        self.clubs = clubs_load()
        location = self.options.get("location")
        if self.initial and location:
            if location not in self.clubs.by_alt_id:
                raise PermanentError(f"Location {location!r} has no Perfect Gym club number.")
            self.scope = {self.clubs.by_alt_id[location]}
        else:
            self.scope = set(self.clubs.locations)
        if not self.scope:
            raise PermanentError(NO_CLUBS)
        self.identity_type_id = self.connector.settings.get("identity_type")
        if self.identity_type_id and not IdentityType.objects.filter(pk=self.identity_type_id).exists():
            raise PermanentError("The identity type chosen for the customer number no longer exists; "
                                 "choose one in the integration's settings.")

    def pages(self, cursor):
        self.start()
        if self.initial:
            self.high_water = self.client.latest_version(self.entity_set)
        for page in self.client.changes(self.entity_set, after=cursor, filter=self.server_filter(),
                                        ahead=PAGES_AHEAD):
            cursor = max([cursor or 0, *(r.version for r in page.rows if isinstance(r.version, int))])
            yield Page(page.rows, cursor=cursor, total=page.count)

    def record_key(self, raw: Row) -> str:
        return raw.key

    # the report -------------------------------------------------------------------
    def finish(self, run) -> None:
        lines = [f"{alt_id}: {n} {self.noun} without a package" for alt_id, n in sorted(self.unmatched.items())]
        if self.unmatched:
            waiting = pending_report(integration=self.connector.integration, noun=self.noun.rstrip("s"),
                                     products=set(self.unmatched))
            lines += ["Waiting now:", waiting] if waiting else []
        for alt_id, n in sorted(self.unplaced.items()):
            lines.append(f"{alt_id}: {n} of those {self.noun} belong to members Perfect Gym did not return "
                         "(deleted or unreadable); they are not kept.")
        for club, n in sorted(self.outside.items(), key=lambda item: str(item[0])):
            why = ("not the location this sync covers" if club in self.clubs.locations
                   else "no location has this club number")
            lines.append(f"club {club}: {n} {self.noun} skipped, {why}")
        if self.clients_added:
            lines.append(f"{self.clients_added} client(s) created for members the member sync had not "
                         "brought yet.")
        run.report = "\n".join(lines)
        if self.initial and self.high_water is not None:
            ongoing_cursor_seed(integration=self.connector.integration, sync_name=self.name,
                                cursor=self.high_water)


class MembersSync(PerfectGymSync):
    """Members -> clients (deleted members are deleted recoverably, so inactive)."""

    entity_set, noun = "Members", "members"
    written_models = (Client, ClientIdentity)

    def server_filter(self) -> str:
        if self.initial:
            return f"isDeleted eq false and ({ids_filter(sorted(self.scope), 'homeClubId')})"
        return ""

    def prepare(self, rows):
        # Members of other clubs still update clients Gatehouse already has.
        outside = [r.id for r in rows if isinstance(r.id, int) and r.home_club_id not in self.scope]
        self.known = clients_known(self.source, outside) if outside else {}

    def map(self, raw: Member):
        record = member_record(raw, clubs=self.clubs, identity_type_id=self.identity_type_id)
        if raw.home_club_id not in self.scope and record.external_id not in self.known:
            self.outside[raw.home_club_id] += 1
            return SKIPPED
        return record

    def apply(self, records):
        live = [r for r in records if isinstance(r, ClientRecord)]
        result = clients_upsert(source=self.source, records=live)
        return Counts(created=result.created, updated=result.updated, unchanged=result.unchanged,
                      skipped=result.skipped + len(records) - len(live), changed_clients=result.changed_client_ids)


class MemberRowsSync(PerfectGymSync):
    """A sync of rows that belong to members (contracts, member products, visits): the
    members Gatehouse does not know yet are fetched for the page (referred) and created first."""

    def fetch_worthy(self, row: Row) -> bool:
        """Whether the member of `row` is fetched when Gatehouse does not know them."""
        return False

    def referred(self, raws: list[Row]) -> list[Member]:
        """The members of this page's rows (not deleted) whom Gatehouse does not know and whose
        rows are worth it (fetch_worthy): one query for the known ones, then a few calls."""
        rows = [r for r in raws if isinstance(r.member_id, int) and not r.deleted]
        self.known = clients_known(self.source, {r.member_id for r in rows})
        self.fetched, self.needed = set(), set()
        missing = {r.member_id for r in rows if self.fetch_worthy(r) and str(r.member_id) not in self.known}
        return self.client.by_ids("Members", missing) if missing else []

    def member_map(self, member: Member) -> ClientRecord | Skipped:
        """A fetched member as the client to create; deleted or unreadable ones are left out
        quietly (their rows then say "not a client" in member_check)."""
        try:
            record = member_record(member, clubs=self.clubs, identity_type_id=self.identity_type_id)
        except BadRecord:
            return NOT_RETURNED
        if record.deleted:
            return NOT_RETURNED
        self.fetched.add(int(record.external_id))
        return record

    def member_check(self, member_id: int, row: Row) -> None:
        if str(member_id) not in self.known and member_id not in self.fetched:
            raise BadRecord(f"Member {member_id} is not a client and Perfect Gym did not return them "
                            "(deleted or unreadable).", key=row.key, payload=row.payload)

    def members_add(self, records: list) -> tuple[list, set[int]]:
        """Create the clients of the fetched members among `records` whom this page's rows
        need (one upsert); returns the page's own records and the clients whose access changed."""
        own = [r for r in records if not isinstance(r, ClientRecord) and r is not NOT_RETURNED]
        # All unknown when fetched; written again if a refused page is retried record by record.
        new = [r for r in records if isinstance(r, ClientRecord) and int(r.external_id) in self.needed]
        if not new:
            return own, set()
        result = clients_upsert(source=self.source, records=new)
        self.clients_added += result.created
        self.known.update(result.ids)
        return own, set(result.changed_client_ids)


class HoldingsSync(MemberRowsSync):
    """Contracts or member products -> client packages, matched to packages by alt id."""

    holding_of = staticmethod(contract_holding)  # the row -> Holding mapping
    written_models = (ClientPackage,)
    package_field, package_prefix = "paymentPlanId", "payment_plan_"

    def start(self):
        super().start()
        self.packages = {alt_id: (pk, credits)
                         for alt_id, pk, credits in Package.objects.values_list("alt_id", "pk", "credits")}

    def fetch_worthy(self, row) -> bool:
        # Members of contracts without a package too: their contracts wait for it (integrations.pending).
        return row.club_id in self.scope

    def map(self, raw):
        if isinstance(raw, Member):
            return self.member_map(raw)
        holding = self.holding_of(raw, clubs=self.clubs)
        if holding.deleted:
            return holding
        if holding.club_id not in self.scope and str(holding.member_id) not in self.known:
            self.outside[holding.club_id] += 1
            return SKIPPED
        if holding.package_alt_id not in self.packages:
            self.unmatched[holding.package_alt_id] += 1
            if str(holding.member_id) not in self.known and holding.member_id not in self.fetched:
                self.unplaced[holding.package_alt_id] += 1
                return SKIPPED
            self.needed.add(holding.member_id)
            return holding  # it waits for its package
        self.member_check(holding.member_id, raw)
        self.needed.add(holding.member_id)
        return holding

    def apply(self, records):
        records, changed = self.members_add(records)  # the clients first: the holdings point at them
        holdings = [r for r in records if isinstance(r, Holding)]
        live = [h for h in holdings if not h.deleted]
        # Without a package, or at a club no location carries yet: the back-fill keeps them.
        waiting = [self._waiting(h) for h in live if self._waits(h)]
        placed = pending_records_replace(integration=self.connector.integration, waiting=waiting,
                                         references=[h.alt_id for h in holdings])
        writes = [self._record(h) for h in live if not self._waits(h)]
        gone = [h.alt_id for h in holdings if h.deleted]
        if gone:  # a deleted contract expires the client package it made, if any
            writes += [ClientPackageRecord(**{**row, "status": ClientPackage.Status.EXPIRED})
                       for row in ClientPackage.objects.filter(source=self.source, alt_id__any=gone).values(
                           "alt_id", "client_id", "package_id", "start", "end", "location_id", "tier_id",
                           "credits_remaining")]
        result = client_packages_upsert(source=self.source, records=writes)
        return Counts(created=result.created, updated=result.updated, unchanged=result.unchanged,
                      skipped=len(records) - len(writes),
                      changed_clients=changed | placed.changed_client_ids | result.changed_client_ids)

    def _waits(self, holding: Holding) -> bool:
        return holding.package_alt_id not in self.packages or (
            holding.club_id is not None and holding.club_id not in self.clubs.locations)

    def _waiting(self, holding: Holding) -> Waiting:
        location_id = self.clubs.locations.get(holding.club_id)
        return Waiting(
            reference=holding.alt_id, client_id=self.known[str(holding.member_id)], package=holding.package_alt_id,
            start=holding.start, end=holding.end, status=holding.status, location_id=location_id,
            location_number=str(holding.club_id) if location_id is None and holding.club_id is not None else "",
            credits_remaining=holding.quantity, credits_when="package_credits",  # as _record: a credit package
        )

    def _record(self, holding: Holding) -> ClientPackageRecord:
        package_id, credits = self.packages[holding.package_alt_id]
        return ClientPackageRecord(
            alt_id=holding.alt_id, client_id=self.known[str(holding.member_id)], package_id=package_id,
            start=holding.start, end=holding.end, status=holding.status,
            location_id=self.clubs.locations.get(holding.club_id),
            credits_remaining=holding.quantity if credits is not None else None,
        )


class ContractsSync(HoldingsSync):
    entity_set, noun = "Contracts", "contracts"


class MemberProductsSync(HoldingsSync):
    entity_set, noun = "MemberProducts", "member products"
    holding_of = staticmethod(product_holding)
    package_field, package_prefix = "productId", "product_"


class VisitsSync(MemberRowsSync):
    """MemberClubVisits -> door accesses at the club's door, marking nearby bookings attended."""

    entity_set, noun = "MemberClubVisits", "visits"
    written_models = (DoorAccess,)

    def start(self):
        super().start()
        self.before_start = timedelta(minutes=self.connector.setting_int("attendance_minutes", 30))

    def fetch_worthy(self, row) -> bool:
        return row.club_id in self.clubs.doors

    def map(self, raw):
        if isinstance(raw, Member):
            return self.member_map(raw)
        visit = visit_row(raw, clubs=self.clubs)
        if visit.deleted:
            return SKIPPED
        if visit.club_id not in self.scope:
            self.outside[visit.club_id] += 1
            return SKIPPED
        if visit.club_id not in self.clubs.doors:
            raise BadRecord(f"{self.clubs.names[visit.club_id]} (club {visit.club_id}) has no active door: "
                            "add a door record for the location.", key=raw.key, payload=raw.payload)
        self.member_check(visit.member_id, raw)
        self.needed.add(visit.member_id)
        return visit

    def apply(self, records):
        records, changed = self.members_add(records)  # the clients first: the visits point at them
        visits = [r for r in records if isinstance(r, Visit)]
        entries = [DoorEntry(client_id=self.known[str(v.member_id)], door=self.clubs.doors[v.club_id],
                             accessed_at=v.entered_at, granted=True, source_ref=v.ref) for v in visits]
        created = door_accesses_record(source=self.source, integration_id=self.connector.integration.pk,
                                       entries=entries, before_start=self.before_start) if entries else []
        return Counts(created=len(created), unchanged=len(entries) - len(created),
                      skipped=len(records) - len(entries), changed_clients=changed)
