"""Writes to doors and door accesses, and to the mirrors of the door system's records."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from accessctl.backends import DoorBackendMissing, UnlockResult, door_backend
from accessctl.models import AccessRule, Door, DoorAccess, DoorSystemUser, KisiGroup, KisiPlace
from accessctl.records import DoorGroupRecord, DoorLockRecord, DoorPlaceRecord, DoorSystemUserRecord
from accessctl.signals import door_accesses_recorded
from clients.bulk import rows_changed, rows_upsert, rows_write
from clients.models import Location
from clients.records import UpsertResult
from packages.models import ClientPackage
from packages.services import ATTENDANCE_BEFORE_START, bookings_mark_attended


@dataclass(frozen=True)
class DoorEntry:
    """A neutral door access as a member or door system reports it."""

    client_id: int
    door: Door
    accessed_at: datetime
    granted: bool
    source_ref: str


@transaction.atomic
def door_accesses_record(
    *, source: str, entries: list[DoorEntry], integration_id: int | None = None,
    before_start: timedelta = ATTENDANCE_BEFORE_START,
) -> list[DoorAccess]:
    """Store door accesses once each (by source reference) and mark nearby bookings attended.

    `integration_id` is the integration reporting them (None for Gatehouse's own unlocks).
    A granted entry from `before_start` ahead of a booked class until its end marks the
    booking attended. Entries already stored are skipped. Returns the accesses created now.
    """
    refs = [e.source_ref for e in entries]
    known = set(
        DoorAccess.objects.filter(source=source, source_ref__in=refs).values_list(
            "source_ref", flat=True
        )
    )
    fresh: dict[str, DoorEntry] = {}
    for entry in entries:
        if entry.source_ref not in known:
            fresh.setdefault(entry.source_ref, entry)
    created = DoorAccess.objects.bulk_create(
        [
            DoorAccess(
                client_id=e.client_id, door=e.door, accessed_at=e.accessed_at,
                granted=e.granted, source=source, source_ref=e.source_ref, integration_id=integration_id,
            )
            for e in fresh.values()
        ],
        ignore_conflicts=True,
    )
    bookings_mark_attended(
        entries=[(e.client_id, e.door.location_id, e.accessed_at) for e in fresh.values() if e.granted],
        before_start=before_start,
    )
    if created:  # check-in syncs of member systems wake from this (integrations.receivers)
        door_accesses_recorded.send(sender=DoorAccess, source=source, integration_id=integration_id,
                                    accesses=created)
    return created


def door_test_unlock(*, door: Door) -> UnlockResult:
    """The admin's "Test unlock": open the door once and say whether the lock answered,
    with the lock's online state as the door system last reported it (and when)."""
    try:
        backend = door_backend(door)
    except DoorBackendMissing as missing:
        return UnlockResult(False, str(missing))
    return backend.unlock(door)


PLACE_FIELDS = ["name", "time_zone", "location_id"]
GROUP_FIELDS = ["name", "description", "place_id"]
LOCK_FIELDS = ["title", "latitude", "longitude", "lock_online"]


def kisi_places_upsert(*, records: list[DoorPlaceRecord]) -> UpsertResult:
    """Create or update Kisi places by their Kisi id, in bulk.

    A location a manager mapped is kept; an unmapped place is mapped to the location
    with the same name (ignoring case) when exactly one has it. `ids`: Kisi id -> pk.
    """
    result = UpsertResult()
    named = defaultdict(list)
    for pk, name in (Location.objects.annotate(lname=Lower("name"))
                     .filter(lname__in={r.name.strip().lower() for r in records}).values_list("pk", "lname")):
        named[name].append(pk)
    wanted = {r.kisi_id: r for r in records}
    existing = {row.pop("kisi_id"): row for row in
                KisiPlace.objects.filter(kisi_id__in=wanted).values("kisi_id", *PLACE_FIELDS)}
    rows = {}
    for kisi_id, record in wanted.items():
        matches = named.get(record.name.strip().lower(), [])
        mapped = existing.get(kisi_id, {}).get("location_id")
        rows[kisi_id] = {"name": record.name[:200], "time_zone": record.time_zone[:64],
                         "location_id": mapped or (matches[0] if len(matches) == 1 else None)}
    changed = rows_changed(existing=existing, wanted=rows, fields=PLACE_FIELDS, result=result)
    rows_write(model=KisiPlace, rows=[{"kisi_id": key, **rows[key]} for key in changed],
               unique_fields=["kisi_id"], update_fields=PLACE_FIELDS)
    result.ids = dict(KisiPlace.objects.filter(kisi_id__in=wanted).values_list("kisi_id", "pk"))
    return result


def kisi_groups_upsert(*, records: list[DoorGroupRecord]) -> UpsertResult:
    """Create or update Kisi groups by their Kisi id, with their scope, in bulk.

    A group scoped to a place that is not imported yet is skipped (import places first).
    """
    result = UpsertResult()
    places = dict(KisiPlace.objects.filter(
        kisi_id__in={r.place_kisi_id for r in records if r.place_kisi_id}).values_list("kisi_id", "pk"))
    rows = {}
    for record in records:
        if record.place_kisi_id and record.place_kisi_id not in places:
            result.skipped += 1
        else:
            rows[record.kisi_id] = {"name": record.name[:200], "description": record.description,
                                    "place_id": places.get(record.place_kisi_id) if record.place_kisi_id else None}
    rows_upsert(model=KisiGroup, key="kisi_id", wanted=rows, fields=GROUP_FIELDS, result=result)
    return result


def kisi_doors_upsert(*, records: list[DoorLockRecord]) -> UpsertResult:
    """Make every Kisi lock a Door, in bulk.

    A door that already has the lock id keeps its location, door id and access control
    (a manager's choice) and takes the lock's name as title (and its coordinates while it
    has none). A new lock becomes a Kisi door "kisi-<lock id>" at its place's location; a
    lock whose place has no location is skipped, since every door belongs to a location.
    Every door of a lock takes the lock's online state, stamped with the time it was read.
    """
    result = UpsertResult()
    locks = {r.lock_id: r for r in records}
    locations = dict(KisiPlace.objects.filter(
        kisi_id__in={r.place_kisi_id for r in records}).values_list("kisi_id", "location_id"))
    existing = {row.pop("pk"): row for row in
                Door.objects.filter(kisi_lock_id__in=locks).values("pk", "kisi_lock_id", *LOCK_FIELDS)}
    rows = {}
    for pk, door in existing.items():  # a lock may open several doors
        lock = locks[door["kisi_lock_id"]]
        unplaced = door["latitude"] is None and door["longitude"] is None
        rows[pk] = {"title": lock.title[:200], "latitude": lock.latitude if unplaced else door["latitude"],
                    "longitude": lock.longitude if unplaced else door["longitude"], "lock_online": lock.online}
    held = {door["kisi_lock_id"] for door in existing.values()}
    for lock in locks.values():
        if lock.lock_id in held:
            continue
        if locations.get(lock.place_kisi_id) is None:
            result.skipped += 1
            continue
        rows[f"new:{lock.lock_id}"] = {"title": lock.title[:200], "latitude": lock.latitude,
                                       "longitude": lock.longitude, "lock_online": lock.online,
                                       "door_id": f"kisi-{lock.lock_id}",
                                       "location_id": locations[lock.place_kisi_id],
                                       "access_control": Door.AccessControl.KISI, "kisi_lock_id": lock.lock_id}
    changed = rows_changed(existing=existing, wanted=rows, fields=LOCK_FIELDS, result=result)
    Door.objects.bulk_update([Door(pk=key, **rows[key]) for key in changed if key in existing], LOCK_FIELDS)
    Door.objects.bulk_create([Door(**rows[key]) for key in changed if key not in existing])
    # The read time changes every run, so it is stamped apart and counts as no change.
    Door.objects.filter(kisi_lock_id__in=locks).update(lock_online_at=timezone.now())
    result.ids = dict(Door.objects.filter(kisi_lock_id__in=locks).values_list("kisi_lock_id", "pk"))
    return result


def door_system_users_link(*, system: str, records: list[DoorSystemUserRecord]) -> int:
    """Remember each client's user in a door system (found or created there), in bulk.

    A client already linked in `system` keeps its link. Returns how many links are new.
    """
    linked = set(DoorSystemUser.objects.filter(
        system=system, client_id__in=[r.client_id for r in records]).values_list("client_id", flat=True))
    fresh = {r.client_id: r for r in records if r.client_id not in linked}
    DoorSystemUser.objects.bulk_create(
        [DoorSystemUser(client_id=r.client_id, system=system, external_id=r.external_id, email=r.email[:254])
         for r in fresh.values()],
        ignore_conflicts=True,
    )
    return len(fresh)


def _holders(package_ids: set[int]) -> set[int]:
    """Clients holding an active client package of these packages (their access may change)."""
    if not package_ids:
        return set()
    return set(ClientPackage.objects.filter(package_id__in=package_ids, status=ClientPackage.Status.ACTIVE)
               .values_list("client_id", flat=True).distinct())


@transaction.atomic
def access_rule_set(
    *, owner: str, reason: str, group: KisiGroup, package_ids: set[int], location_id: int | None = None,
    minutes_before: int = 60, minutes_after: int = 0,
) -> set[int]:
    """Keep exactly one rule of `reason` for `owner`, with these packages and terms.

    No packages deletes the rule. Returns the clients whose access may change: holders
    of every package involved when the terms changed, else of the packages added or removed.
    """
    rules = list(AccessRule.objects.filter(owner=owner, reason=reason).prefetch_related("packages"))
    before = {p.pk for rule in rules for p in rule.packages.all()}
    wanted = set(package_ids)
    if not wanted:
        AccessRule.objects.filter(pk__in=[r.pk for r in rules]).delete()
        return _holders(before)
    terms = {"group_id": group.pk, "location_id": location_id, "minutes_before": minutes_before,
             "minutes_after": minutes_after, "is_active": True}
    rule = rules[0] if rules else AccessRule(owner=owner, reason=reason)
    AccessRule.objects.filter(pk__in=[r.pk for r in rules[1:]]).delete()
    terms_changed = len(rules) != 1 or any(getattr(rule, k) != v for k, v in terms.items())
    if terms_changed:
        for key, value in terms.items():
            setattr(rule, key, value)
        rule.save()
    rule.packages.set(wanted)
    return _holders(before | wanted) if terms_changed else _holders(before ^ wanted)


@transaction.atomic
def access_rules_delete(*, owner: str) -> set[int]:
    """Delete every rule `owner` configured; returns the clients whose access may change."""
    rules = AccessRule.objects.filter(owner=owner)
    package_ids = set(rules.values_list("packages", flat=True)) - {None}
    rules.delete()
    return _holders(package_ids)


def access_rule_packages_add(*, owner: str, reason: str, package_ids: set[int]) -> set[int]:
    """Add packages to `owner`'s rule of `reason` (if it has one); returns the packages added."""
    rule = AccessRule.objects.filter(owner=owner, reason=reason).first()
    if rule is None or not package_ids:
        return set()
    missing = set(package_ids) - set(rule.packages.filter(pk__in=package_ids).values_list("pk", flat=True))
    if missing:
        rule.packages.add(*missing)
    return missing
