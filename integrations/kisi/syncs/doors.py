"""The "doors" sync: Kisi's places, groups and locks into KisiPlace, KisiGroup and Door.

Places come first (a place maps to the location a manager chose, else the one with the
same name), then groups with their scope, then locks: each becomes a Kisi door at its
place's location. A lock whose place has no location cannot be a door (a door belongs
to a location) and becomes a SyncIssue telling the manager to map the place. Each door
keeps the lock's `online` state as this read found it (Test unlock and the staff
dashboard show it), since `GET /locks` is the contract's only way to read it.
"""

from dataclasses import dataclass

from accessctl.models import Door, KisiPlace
from accessctl.records import DoorGroupRecord, DoorLockRecord, DoorPlaceRecord
from accessctl.services import kisi_doors_upsert, kisi_groups_upsert, kisi_places_upsert
from integrations.errors import BadRecord
from integrations.kisi.mapping import group_record, lock_record, place_record, record_id
from integrations.kisi.records import Group, Lock, Place
from integrations.sync import Counts, Page, SyncJob


@dataclass(frozen=True)
class Item:
    """One Kisi record and what it is (the engine keeps pages of one kind)."""

    kind: str  # place, group, lock
    record: Place | Group | Lock


class DoorsSync(SyncJob):
    """Import the organisation's places, groups and locks; one bulk write per page."""

    def record_key(self, raw) -> str:
        if isinstance(raw, Item) and isinstance(raw.record.payload, dict):
            return f"{raw.kind}-{raw.record.payload.get('id', '')}"
        return ""

    def pages(self, cursor):
        kisi = self.connector.client()
        for kind, pages in (("place", kisi.places), ("group", kisi.groups), ("lock", kisi.locks)):
            for page in pages():
                yield Page([Item(kind, record) for record in page.records], cursor=None, total=page.total)

    def prepare(self, raws: list) -> None:
        """What map() needs to know about a page of locks: places' locations, known lock ids."""
        ids = [item.record.id for item in raws if item.kind == "lock" and item.record.id]
        if not ids:
            return
        self.known_locks = set(Door.objects.filter(kisi_lock_id__in=ids)
                               .values_list("kisi_lock_id", flat=True))
        self.places = {kisi_id: (name, location_id) for kisi_id, name, location_id in
                       KisiPlace.objects.values_list("kisi_id", "name", "location_id")}

    def map(self, item: Item):
        record = item.record
        kisi_id = record_id(item.kind, record)
        if item.kind == "place":
            return place_record(record)
        if item.kind == "group":
            return group_record(record)
        # A new lock becomes a door only at a place mapped to a location (a door has one).
        place, raw = record.place_id, record.payload
        name, location_id = self.places.get(place, (None, None))
        if kisi_id not in self.known_locks:
            if name is None:
                raise BadRecord(f"The lock's place {place or '(none)'} is not in Gatehouse.", payload=raw,
                                key=f"lock-{kisi_id}")
            if location_id is None:
                raise BadRecord(
                    f"The lock's place '{name}' is not mapped to a location, so the lock cannot become "
                    "a door. Map the place under Kisi places, then sync doors again.",
                    payload=raw, key=f"lock-{kisi_id}")
        return lock_record(record)

    def apply(self, records) -> Counts:
        if not records:
            return Counts()
        upsert = {DoorPlaceRecord: kisi_places_upsert, DoorGroupRecord: kisi_groups_upsert,
                  DoorLockRecord: kisi_doors_upsert}[type(records[0])]
        result = upsert(records=records)
        return Counts(created=result.created, updated=result.updated, unchanged=result.unchanged,
                      skipped=result.skipped)
