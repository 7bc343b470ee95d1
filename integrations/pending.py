"""The back-fill: client packages that wait for a package, a tier or a location, placed
the moment it appears.

A member sync that reads a vendor record naming a product no Gatehouse package stands
for (a Perfect Gym payment plan, a Gladstone SubTypeID, a Momence membership) hands it
here as a `Waiting` instead of dropping it. `pending_records_replace` places what can be
placed (a package found but no tier yet: the client package is written without it) and
keeps the rest as PendingRecord rows, replacing what it knew of the records the sync read
again. When a package is created or its alt id changes (the admin, the catalogue page,
an import, a catalogue sync), a location tier is saved, or a location gets a vendor's
number, `pending_records_apply` places the records that waited for it through the same
bulk upsert the syncs use: no vendor call, no re-read. A record leaves the table only
when its client package is written in full, or when the vendor no longer lists it.

Each connector says how a vendor's product name finds its package (`pending_package`,
e.g. Gladstone's tier rule) and which Location number names its sites
(`location_number_key`). Signals are connected in integrations.receivers.
"""

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from clients import lookups  # noqa: F401 - registers field__any (one array parameter)
from clients.models import Location, LocationTier
from integrations.connectors import connector_for
from integrations.models import Integration, PendingRecord
from integrations.reactions import access_changed_notify
from packages.models import Package
from packages.records import ClientPackageRecord
from packages.services import client_packages_upsert

Waits = PendingRecord.Waits


@dataclass(frozen=True)
class Waiting:
    """A client package a sync read but could not place: everything but what it waits for."""

    reference: str  # the vendor's reference, the client package's alt id
    client_id: int
    package: str  # the product as the vendor names it (connector.pending_package reads it)
    start: datetime
    end: datetime | None = None
    status: str = "active"
    location_id: int | None = None
    location_number: str = ""  # the vendor's number for the site, when no location carries it yet
    tier: str = ""  # the location tier's alt id it names
    credits_remaining: int | None = None
    # "": keep credits_remaining; "package_credits": only when the package counts credits;
    # a Package.Kind: only when the package is of that kind.
    credits_when: str = ""


@dataclass
class Placed:
    """What one placement did."""

    placed: int = 0  # records now held in full
    waiting: int = 0  # records still waiting for something
    changed_client_ids: set[int] = field(default_factory=set)


@dataclass
class _Lookups:
    """Packages, tiers and location numbers, read once per placement (three queries)."""

    packages: dict[str, tuple[int, str, int | None]]
    tiers: dict[str, int]
    numbers: dict[str, dict[str, int]]  # Location.integration_numbers key -> number -> location id

    @classmethod
    def load(cls) -> "_Lookups":
        numbers: dict[str, dict[str, int]] = defaultdict(dict)
        for pk, values in Location.objects.order_by("pk").values_list("pk", "integration_numbers"):
            for key, value in (values or {}).items():
                if _number(value):
                    numbers[key].setdefault(_number(value), pk)  # two locations, one number: the first
        return cls(
            packages={a: (pk, kind, credits) for a, pk, kind, credits in
                      Package.objects.values_list("alt_id", "pk", "kind", "credits")},
            tiers=dict(LocationTier.objects.values_list("alt_id", "pk")),
            numbers=numbers,
        )


def _number(value) -> str:
    """A location number as text ('012 ' and 12 are both '12'; '' when empty)."""
    text = str(value if value is not None else "").strip()
    return str(int(text)) if text.isdigit() else text


def _waiting_of(row: PendingRecord) -> Waiting:
    data = row.record
    return Waiting(
        reference=row.reference, client_id=row.client_id, package=row.package_wanted,
        start=parse_datetime(data["start"]), end=parse_datetime(data["end"]) if data.get("end") else None,
        status=data.get("status", "active"), location_id=data.get("location_id"),
        location_number=row.location_wanted, tier=row.tier_wanted,
        credits_remaining=data.get("credits_remaining"), credits_when=data.get("credits_when", ""),
    )


def _row_of(integration: Integration, item: Waiting, waits_for: str, now) -> PendingRecord:
    data = {k: v for k, v in asdict(item).items()
            if k in ("status", "location_id", "credits_remaining", "credits_when")}
    data |= {"start": item.start.isoformat(), "end": item.end.isoformat() if item.end else None}
    return PendingRecord(
        integration=integration, client_id=item.client_id, reference=item.reference[:64],
        package_wanted=item.package[:64], tier_wanted=item.tier[:8], location_wanted=item.location_number[:64],
        waits_for=waits_for, record=data, seen_at=now,
    )


def _place(item: Waiting, connector, look: _Lookups) -> tuple[ClientPackageRecord | None, str | None]:
    """The client package `item` becomes now (None without a package) and what it still
    waits for (None: nothing, it is placed in full)."""
    alt_id = connector.pending_package(item.package, look.packages)
    if alt_id is None or alt_id not in look.packages:
        return None, Waits.PACKAGE
    package_id, kind, package_credits = look.packages[alt_id]
    tier_id = look.tiers.get(item.tier) if item.tier else None
    location_id = item.location_id
    if location_id is None and item.location_number and connector.location_number_key:
        location_id = look.numbers.get(connector.location_number_key, {}).get(_number(item.location_number))
    credits = item.credits_remaining
    if item.credits_when == "package_credits" and package_credits is None:
        credits = None
    elif item.credits_when not in ("", "package_credits") and kind != item.credits_when:
        credits = None
    record = ClientPackageRecord(
        alt_id=item.reference, client_id=item.client_id, package_id=package_id, start=item.start, end=item.end,
        status=item.status, location_id=location_id, tier_id=tier_id, credits_remaining=credits,
    )
    if item.tier and tier_id is None:
        return record, Waits.TIER
    if item.location_number and location_id is None:
        return record, Waits.LOCATION
    return record, None


def _write(integration: Integration, connector, items: list[Waiting], look: _Lookups):
    """Place what can be placed; returns (Placed, {reference: what it still waits for})."""
    records, still = [], {}
    for item in items:
        record, waits_for = _place(item, connector, look)
        if record is not None:
            records.append(record)
        if waits_for is not None:
            still[item.reference] = waits_for
    written = client_packages_upsert(source=integration.source, records=records) if records else None
    done = len(items) - len(still)
    return Placed(placed=done, waiting=len(still),
                  changed_client_ids=written.changed_client_ids if written else set()), still


def pending_records_replace(
    *, integration: Integration, waiting: list[Waiting], client_ids=(), references=()
) -> Placed:
    """What a sync page could not place: place what it can now, keep the rest.

    The integration's records of `client_ids` (a sync that reads a member's whole list,
    e.g. Gladstone, Momence) and of `references` (a sync that reads records one by one,
    e.g. Perfect Gym's contracts, including deleted ones) are forgotten first, so a record
    the vendor no longer lists stops waiting. A constant number of queries per call.
    Runs inside the sync's page transaction; the caller wakes the door systems for
    Placed.changed_client_ids.
    """
    mine = PendingRecord.objects.filter(integration=integration)
    refs = {*references, *(w.reference for w in waiting)}
    if client_ids:
        mine.filter(client_id__any=client_ids).delete()
    if refs:
        mine.filter(reference__any=refs).delete()
    if not waiting:
        return Placed()
    items = list({w.reference: w for w in waiting}.values())
    placed, still = _write(integration, connector_for(integration), items, _Lookups.load())
    now = timezone.now()
    PendingRecord.objects.bulk_create(
        [_row_of(integration, w, still[w.reference], now) for w in items if w.reference in still], batch_size=1000)
    return placed


def pending_records_apply(*, waits_for: list[str] | None = None, integration: Integration | None = None) -> Placed:
    """Place the records waiting for a package, tier or location that exists now.

    Called when one appears (integrations.receivers) and by audits before they report.
    `waits_for` narrows to what changed (Waits values); `integration` to one integration.
    Per integration with waiting records: one read, the look-ups, one bulk upsert, one
    delete. Wakes the door systems for the clients whose packages changed.
    """
    rows = PendingRecord.objects.all()
    if waits_for:
        rows = rows.filter(waits_for__in=waits_for)
    if integration is not None:
        rows = rows.filter(integration=integration)
    by_integration: dict[int, list[PendingRecord]] = defaultdict(list)
    for row in rows.select_related("integration"):
        by_integration[row.integration_id].append(row)
    total = Placed()
    look = _Lookups.load() if by_integration else None
    for group in by_integration.values():
        owner = group[0].integration
        with transaction.atomic():
            placed, still = _write(owner, connector_for(owner), [_waiting_of(r) for r in group], look)
            mine = PendingRecord.objects.filter(integration=owner)
            mine.filter(reference__in=[r.reference for r in group if r.reference not in still]).delete()
            for waits in set(still.values()):
                mine.filter(reference__in=[r.reference for r in group if still.get(r.reference) == waits
                                           and r.waits_for != waits]).update(waits_for=waits)
        access_changed_notify(client_ids=placed.changed_client_ids, origin=owner)
        total.placed += placed.placed
        total.waiting += placed.waiting
        total.changed_client_ids |= placed.changed_client_ids
    return total


def pending_by_package(*, integration: Integration) -> dict[str, list[PendingRecord]]:
    """The integration's records waiting for a package, by the product they name."""
    found: dict[str, list[PendingRecord]] = defaultdict(list)
    rows = (PendingRecord.objects.filter(integration=integration, waits_for=Waits.PACKAGE,
                                         client__deleted_at__isnull=True)
            .select_related("client").order_by("package_wanted", "client__external_id", "reference"))
    for row in rows:
        found[row.package_wanted].append(row)
    return dict(found)


def pending_report(*, integration: Integration, noun: str = "record", products=None) -> str:
    """Lines for a sync run's report: what waits, and what placing it takes. `products`
    limits the package lines to these vendor products (those the run read)."""
    lines = []
    for wanted, rows in pending_by_package(integration=integration).items():
        if products is not None and wanted not in products:
            continue
        clients = len({r.client_id for r in rows})
        lines.append(f"{wanted}: {len(rows)} {noun}(s) without a package; creating a package with this alt ID "
                     f"(the catalogue can) assigns it to these {clients} client(s) at once.")
    others = (PendingRecord.objects.filter(integration=integration).exclude(waits_for=Waits.PACKAGE)
              .values_list("waits_for", flat=True))
    counts: dict[str, int] = defaultdict(int)
    for waits in others:
        counts[waits] += 1
    if counts.get(Waits.TIER):
        lines.append(f"{counts[Waits.TIER]} {noun}(s) hold their package without the location tier they name; "
                     "adding the tier assigns it at once.")
    if counts.get(Waits.LOCATION):
        lines.append(f"{counts[Waits.LOCATION]} {noun}(s) hold their package without a location: entering the "
                     "vendor's number on the Location assigns it at once.")
    return "\n".join(lines)
