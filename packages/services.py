"""Writes to packages, bookings and the credit ledger."""

from collections import defaultdict
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clients import lookups  # noqa: F401 - registers field__any (one array parameter)
from clients.bulk import rows_changed, rows_upsert, rows_write
from clients.records import UpsertResult
from packages.models import Booking, ClassSession, ClientPackage, CreditEntry, Package, PackageTagOrigin
from packages.records import BookingRecord, ClassSessionRecord, ClientPackageRecord
from packages.signals import packages_added

# A door entry marks a booking attended when the class starts at most this long after
# the entry and has not ended before it (the Perfect Gym seed's "close to" rule).
ATTENDANCE_BEFORE_START = timedelta(minutes=30)


@transaction.atomic
def credits_spend(
    *, client_package: ClientPackage, amount: int, reason: str, reference: str
) -> CreditEntry:
    """Take `amount` credits from a client package, once per `reference`.

    A second call with the same reference returns the first entry and takes nothing.
    Raises ValidationError when the balance would go below zero.
    """
    # The row lock serialises concurrent spends on one package (double submits).
    locked = ClientPackage.objects.select_for_update().get(pk=client_package.pk)
    if entry := CreditEntry.objects.filter(client_package=locked, reference=reference).first():
        return entry
    if (locked.credits_remaining or 0) < amount:
        raise ValidationError(f"Not enough credits on {client_package.package.name}.")
    locked.credits_remaining -= amount
    locked.save(update_fields=["credits_remaining", "updated_at"])
    client_package.credits_remaining = locked.credits_remaining
    return CreditEntry.objects.create(
        client_package=locked, change=-amount, balance_after=locked.credits_remaining,
        reason=reason, reference=reference,
    )


@transaction.atomic
def credits_refund(
    *, client_package: ClientPackage, reference: str, reason: str
) -> CreditEntry | None:
    """Give back, once, what the spend `reference` took. Returns the refund entry."""
    locked = ClientPackage.objects.select_for_update().get(pk=client_package.pk)
    spent = CreditEntry.objects.filter(
        client_package=locked, reference=reference, change__lt=0
    ).first()
    if spent is None:
        return None
    refund_reference = f"refund:{reference}"
    if entry := CreditEntry.objects.filter(
        client_package=locked, reference=refund_reference
    ).first():
        return entry
    locked.credits_remaining = (locked.credits_remaining or 0) - spent.change
    locked.save(update_fields=["credits_remaining", "updated_at"])
    client_package.credits_remaining = locked.credits_remaining
    return CreditEntry.objects.create(
        client_package=locked, change=-spent.change, balance_after=locked.credits_remaining,
        reason=reason, reference=refund_reference,
    )


def bookings_mark_attended(
    *, entries: list[tuple[int, int, datetime]],
    before_start: timedelta = ATTENDANCE_BEFORE_START,
) -> int:
    """Mark attended the bookings that door entries fall close to.

    `entries` are (client id, location id, entry time). A booking counts when its
    session is at that location and the entry lies between `before_start` ahead of
    the start and the session's end. Returns how many bookings changed.
    """
    if not entries:
        return 0
    earliest = min(at for _, _, at in entries)
    latest = max(at for _, _, at in entries)
    candidates = Booking.objects.filter(
        client_id__in={c for c, _, _ in entries},
        session__location_id__in={loc for _, loc, _ in entries},
        session__start__lte=latest + before_start,
        session__end__gte=earliest,
        attended=False,
    ).exclude(status=Booking.Status.CANCELLED).values_list(
        "pk", "client_id", "session__location_id", "session__start", "session__end"
    )
    times: dict[tuple[int, int], list[datetime]] = defaultdict(list)
    for client_id, location_id, at in entries:
        times[(client_id, location_id)].append(at)
    hits = [
        pk
        for pk, client_id, location_id, start, end in candidates
        if any(start - before_start <= at <= end for at in times[(client_id, location_id)])
    ]
    return Booking.objects.filter(pk__in=hits).update(attended=True)


CLIENT_PACKAGE_FIELDS = [
    "client_id", "package_id", "start", "end", "status", "location_id", "tier_id", "credits_remaining",
]


def client_packages_upsert(*, source: str, records: list[ClientPackageRecord]) -> UpsertResult:
    """Create or update client packages in bulk, keyed by (source, vendor reference).

    Unchanged rows are not written; a constant number of queries per call.
    """
    result = UpsertResult()
    latest = {r.alt_id: r for r in records}
    existing = {
        row["alt_id"]: row
        for row in ClientPackage.objects.filter(source=source, alt_id__any=latest).values(
            "id", "alt_id", *CLIENT_PACKAGE_FIELDS
        )
    }
    now = timezone.now()
    wanted = {alt_id: {name: getattr(record, name) for name in CLIENT_PACKAGE_FIELDS}
              for alt_id, record in latest.items()}
    writes = [{"source": source, "alt_id": key, "created_at": now, "updated_at": now, **wanted[key]}
              for key in rows_changed(existing=existing, wanted=wanted, fields=CLIENT_PACKAGE_FIELDS,
                                      result=result)]
    written = rows_write(model=ClientPackage, rows=writes, unique_fields=["source", "alt_id"],
                         update_fields=[*CLIENT_PACKAGE_FIELDS, "updated_at"], returning=["alt_id", "id"])
    if written is None:  # the database cannot say which rows it wrote: read them back
        written = ClientPackage.objects.filter(source=source, alt_id__any=latest).values_list("alt_id", "id")
    result.ids = {row["alt_id"]: row["id"] for row in existing.values()} | dict(written)
    result.changed_client_ids = {w["client_id"] for w in writes}
    return result


def client_packages_expire(
    *, source: str, alt_ids: list[str], status: str = ClientPackage.Status.EXPIRED
) -> set[int]:
    """Expire (or cancel) the active client packages with these vendor references.

    Returns the ids of the clients concerned (their access may change).
    """
    if not alt_ids:
        return set()
    active = ClientPackage.objects.filter(source=source, alt_id__any=alt_ids, status=ClientPackage.Status.ACTIVE)
    client_ids = set(active.values_list("client_id", flat=True))
    active.update(status=status, updated_at=timezone.now())
    return client_ids


SESSION_FIELDS = ["name", "location_id", "start", "end"]
BOOKING_FIELDS = ["session_id", "client_id", "status", "attended"]


def class_sessions_upsert(*, source: str, records: list[ClassSessionRecord]) -> UpsertResult:
    """Create or update class sessions in bulk, keyed by (source, vendor id)."""
    return _upsert_by_external_id(ClassSession, SESSION_FIELDS, source,
                                  {r.external_id: {f: getattr(r, f) for f in SESSION_FIELDS} for r in records})


def bookings_upsert(*, source: str, records: list[BookingRecord]) -> UpsertResult:
    """Create or update bookings in bulk, keyed by (source, vendor id).

    Each record names its session by the vendor's id; the sessions must be upserted
    first. A booking already marked attended stays attended.
    """
    sessions = dict(
        ClassSession.objects.filter(
            source=source, external_id__in={r.session_external_id for r in records}
        ).values_list("external_id", "id")
    )
    existing_attended = set(
        Booking.objects.filter(source=source, external_id__in=[r.external_id for r in records], attended=True)
        .values_list("external_id", flat=True)
    )
    return _upsert_by_external_id(Booking, BOOKING_FIELDS, source, {
        r.external_id: {"session_id": sessions[r.session_external_id], "client_id": r.client_id,
                        "status": r.status, "attended": r.attended or r.external_id in existing_attended}
        for r in records if r.session_external_id in sessions
    })


def _upsert_by_external_id(model, fields: list[str], source: str, values: dict[str, dict]) -> UpsertResult:
    """The shared bulk upsert of rows keyed by (source, external_id)."""
    result = UpsertResult()
    existing = {
        row["external_id"]: row
        for row in model.objects.filter(source=source, external_id__in=values).values("external_id", *fields)
    }
    writes = [model(source=source, external_id=key, **values[key])
              for key in rows_changed(existing=existing, wanted=values, fields=fields, result=result)]
    if writes:
        extra = ["updated_at"] if any(f.name == "updated_at" for f in model._meta.fields) else []
        model.objects.bulk_create(writes, update_conflicts=True, unique_fields=["source", "external_id"],
                                  update_fields=[*fields, *extra], batch_size=1000)
    result.ids = dict(
        model.objects.filter(source=source, external_id__in=values).values_list("external_id", "id")
    )
    result.changed_client_ids = {w.client_id for w in writes if hasattr(w, "client_id")}
    return result


def packages_create_missing(*, entries: list) -> list[Package]:
    """Create a package for each catalogue entry whose alt id has none yet.

    `entries` carry alt_id, name, kind and credits (integrations.connectors.CatalogueEntry).
    """
    known = set(Package.objects.filter(alt_id__in=[e.alt_id for e in entries]).values_list("alt_id", flat=True))
    missing = {e.alt_id: e for e in entries if e.alt_id not in known}
    created = Package.objects.bulk_create(
        Package(alt_id=e.alt_id, name=e.name[:200], kind=e.kind, credits=e.credits) for e in missing.values()
    )
    if created:  # records waiting for these packages are placed now (integrations.pending)
        packages_added.send(sender=Package, alt_ids=[p.alt_id for p in created])
    return created


PACKAGE_FIELDS = ["name", "kind", "credits"]


def packages_upsert(*, entries: list) -> UpsertResult:
    """Create or update packages from a vendor's catalogue in bulk, keyed by alt id.

    `entries` carry alt_id, name, kind and credits (integrations.connectors.CatalogueEntry).
    Name, kind and credits follow the vendor (the kind decides door payment
    eligibility); tags and the active flag stay the club's. Unchanged packages are not
    written; a constant number of queries.
    """
    result = UpsertResult()
    latest = {e.alt_id: {"name": e.name[:200], "kind": e.kind, "credits": e.credits} for e in entries}
    rows_upsert(model=Package, key="alt_id", wanted=latest, fields=PACKAGE_FIELDS, result=result)
    if result.created or result.updated:  # a new package, or a kind that decides credits
        packages_added.send(sender=Package, alt_ids=list(latest))
    return result


@transaction.atomic
def package_tags_import(*, source: str, source_label: str, tags: dict[int, set[int]]) -> set[int]:
    """Make the tags `source` puts on each package in `tags` (package id -> tag ids) exactly
    the ones it lists now, leaving the package's other tags alone.

    A listed tag the package lacks is added and recorded as `source`'s (PackageTagOrigin,
    named `source_label` in the admin); a recorded tag `source` no longer lists is
    removed, unless another source still records it. A tag the package carries with no
    record was added in Gatehouse (by hand, an import): it stays whatever the source
    says, and is not claimed. A constant number of queries. Returns the ids of the
    packages whose tags changed.
    """
    if not tags:
        return set()
    through = Package.tags.through
    present = {(p, t): pk for pk, p, t in through.objects.filter(package_id__in=list(tags))
               .values_list("pk", "package_id", "tag_id")}
    origins = list(PackageTagOrigin.objects.filter(package_id__in=list(tags))
                   .values_list("pk", "package_id", "tag_id", "source", "source_label"))
    mine = {(p, t): (pk, label) for pk, p, t, s, label in origins if s == source}
    others = {(p, t) for _, p, t, s, _ in origins if s != source}
    by_hand = set(present) - set(mine) - others
    wanted = {(p, t) for p, ids in tags.items() for t in ids} - by_hand
    adds = wanted - set(present)
    dropped = set(mine) - wanted
    removes = {pair for pair in dropped if pair in present and pair not in others}
    through.objects.filter(pk__in=[present[pair] for pair in removes]).delete()
    through.objects.bulk_create([through(package_id=p, tag_id=t) for p, t in sorted(adds)], ignore_conflicts=True)
    PackageTagOrigin.objects.filter(pk__in=[mine[pair][0] for pair in dropped]).delete()
    PackageTagOrigin.objects.bulk_create(
        [PackageTagOrigin(package_id=p, tag_id=t, source=source, source_label=source_label[:200])
         for p, t in sorted(wanted - set(mine))])
    renamed = [pk for pair, (pk, label) in mine.items() if pair in wanted and label != source_label[:200]]
    PackageTagOrigin.objects.filter(pk__in=renamed).update(source_label=source_label[:200])
    return {p for p, _ in adds | removes}


def bookings_cancel_missing(
    *, source: str, prefix: str, start_from: datetime, start_until: datetime, seen: set[str]
) -> set[int]:
    """Cancel the bookings a complete vendor listing of a time window no longer includes.

    Concerns the booked (or waiting) bookings of `source` whose external id starts with
    `prefix`, of sessions starting in [start_from, start_until), whose external id is
    not in `seen`. Returns the ids of the clients concerned (their access may change).
    """
    candidates = Booking.objects.filter(
        source=source, external_id__startswith=prefix, session__start__gte=start_from,
        session__start__lt=start_until, status__in=[Booking.Status.BOOKED, Booking.Status.WAITING],
    ).values_list("pk", "external_id", "client_id")
    gone = {pk: client_id for pk, external_id, client_id in candidates if external_id not in seen}
    if gone:
        Booking.objects.filter(pk__in=list(gone)).update(status=Booking.Status.CANCELLED,
                                                         updated_at=timezone.now())
    return set(gone.values())
