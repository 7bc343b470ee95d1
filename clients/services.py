"""Writes to client records. Every function is keyword-only and named <thing>_<verb>."""

from django.db import transaction
from django.utils import timezone

from clients import lookups  # noqa: F401 - registers field__any (one array parameter)
from clients.bulk import rows_changed, rows_write
from clients.models import Client, ClientIdentity, ClientTagChange, IdentityType, Tag
from clients.records import ClientRecord, UpsertResult


def client_delete(*, client: Client) -> Client:
    """Delete a client recoverably: it leaves every list but can be restored."""
    if client.deleted_at is None:
        client.deleted_at = timezone.now()
        client.is_active = False
        client.save(update_fields=["deleted_at", "is_active", "updated_at"])
    return client


def client_restore(*, client: Client) -> Client:
    """Bring a deleted client back, active again."""
    if client.deleted_at is not None:
        client.deleted_at = None
        client.is_active = True
        client.save(update_fields=["deleted_at", "is_active", "updated_at"])
    return client


@transaction.atomic
def client_identity_set(
    *, client: Client, identity_type: IdentityType, value: str
) -> ClientIdentity:
    """Give `client` the identity `value` of `identity_type`, obeying the type's rules.

    With one identity allowed per client the existing one is changed (subject to the
    minimum days between changes); otherwise a new one is added. Raises ValidationError.
    """
    existing = ClientIdentity.objects.select_for_update().filter(
        client=client, identity_type=identity_type
    )
    current = existing.filter(value=value).first()
    if current is not None:
        return current
    if identity_type.max_per_client == 1 and existing.exists():
        identity = existing.get()
        identity.value = value
    else:
        identity = ClientIdentity(client=client, identity_type=identity_type, value=value)
    identity.full_clean()
    identity.changed_at = timezone.now()
    identity.save()
    return identity


CLIENT_FIELDS = [
    "first_name", "last_name", "email", "phone", "date_of_birth", "home_location_id",
    "is_active", "alt_id", "deleted_at",
]


def clients_upsert(
    *, source: str, records: list[ClientRecord], create_inactive: bool = True
) -> UpsertResult:
    """Create or update the clients of one page of vendor records, in bulk.

    Keyed by (source, external id); unchanged rows are not written; a constant number
    of queries whatever the page size. A deleted record deletes its client
    recoverably and creates nothing; an inactive record for an unknown client is
    skipped when `create_inactive` is False (Gladstone's rule).
    """
    result = UpsertResult()
    latest = {r.external_id: r for r in records}
    existing = {
        row["external_id"]: row
        for row in Client.all_objects.filter(source=source, external_id__any=latest).values(
            "id", "external_id", *CLIENT_FIELDS
        )
    }
    now = timezone.now()
    wanted = {}
    for record in latest.values():
        row = existing.get(record.external_id)
        if row is None and (record.deleted or (not record.is_active and not create_inactive)):
            result.skipped += 1
            continue
        wanted[record.external_id] = {
            "first_name": record.first_name, "last_name": record.last_name, "email": record.email,
            "phone": record.phone, "date_of_birth": record.date_of_birth,
            "home_location_id": record.home_location_id,
            "is_active": record.is_active and not record.deleted, "alt_id": record.alt_id,
            "deleted_at": ((row and row["deleted_at"]) or now) if record.deleted else None,
        }
    writes = [{"source": source, "external_id": key, "created_at": now, "updated_at": now, **wanted[key]}
              for key in rows_changed(existing=existing, wanted=wanted, fields=CLIENT_FIELDS, result=result)]
    written = rows_write(model=Client, rows=writes, unique_fields=["source", "external_id"],
                         update_fields=[*CLIENT_FIELDS, "updated_at"], returning=["external_id", "id"])
    if written is None:  # the database cannot say which rows it wrote: read them back
        written = Client.all_objects.filter(source=source, external_id__any=latest).values_list("external_id", "id")
    result.ids = {row["external_id"]: row["id"] for row in existing.values()} | dict(written)
    result.changed_client_ids = {result.ids[w["external_id"]] for w in writes}
    identities_upsert(
        values={(result.ids[r.external_id], kind): value for r in latest.values()
                if r.external_id in result.ids for kind, value in r.identities.items()}
    )
    return result


def identities_upsert(*, values: dict[tuple[int, int], str]) -> int:
    """Set vendor-given identities ((client id, identity type id) -> value) in bulk.

    A vendor's number is the truth, so the change-frequency rule of manual edits does
    not apply; a value held by another client moves to this one. Returns rows written.
    """
    if not values:
        return 0
    client_ids = {client_id for client_id, _ in values}
    kinds = {kind for _, kind in values}
    current = {
        (c, k): (pk, v)
        for pk, c, k, v in ClientIdentity.objects.filter(
            client_id__any=client_ids, identity_type_id__in=kinds
        ).values_list("pk", "client_id", "identity_type_id", "value")
    }
    changed = {key: value for key, value in values.items() if current.get(key, (None, None))[1] != value}
    if not changed:
        return 0
    now = timezone.now()
    for kind in kinds:  # one statement per identity type (vendors bring one)
        ClientIdentity.objects.filter(
            identity_type_id=kind, value__any={v for (_, k), v in changed.items() if k == kind}
        ).exclude(client_id__any=client_ids).delete()
    ClientIdentity.objects.filter(pk__any=[current[k][0] for k in changed if k in current]).delete()
    rows_write(model=ClientIdentity, rows=[
        {"client_id": c, "identity_type_id": k, "value": v, "changed_at": now} for (c, k), v in changed.items()
    ])
    return len(changed)


def identity_type_ensure(
    *, display_name: str, kind: str = IdentityType.Kind.THIRD_PARTY_ID, max_per_client: int = 1,
    min_days_between_changes: int = 0,
) -> IdentityType:
    """The identity type called `display_name`, created with these rules if there is none
    (an integration offers to create the one it stores its vendor's number in)."""
    identity_type, _ = IdentityType.objects.get_or_create(
        display_name=display_name,
        defaults={"type": kind, "max_per_client": max_per_client,
                  "min_days_between_changes": min_days_between_changes, "is_active": True},
    )
    return identity_type


@transaction.atomic
def client_tags_change(
    *, client_ids, tag: Tag, add: bool, reason: str, source: str = "gatehouse", now=None
) -> set[int]:
    """Add `tag` to (or, with add=False, take it from) these clients in bulk, and log it.

    Only real changes are written and logged (one ClientTagChange each, `reason` and
    `source` saying why); a client that already has (or lacks) the tag is left alone.
    A constant number of queries. Returns the ids of the clients changed.
    """
    ids = set(client_ids)
    if not ids:
        return set()
    through = Client.tags.through
    having = set(through.objects.filter(tag=tag, client_id__in=ids).values_list("client_id", flat=True))
    if add:
        changed = set(Client.all_objects.filter(pk__in=ids - having).values_list("pk", flat=True))
        through.objects.bulk_create(
            [through(client_id=pk, tag_id=tag.pk) for pk in changed], ignore_conflicts=True
        )
    else:
        changed = having
        through.objects.filter(tag=tag, client_id__in=changed).delete()
    at = now or timezone.now()
    action = ClientTagChange.Action.ADD if add else ClientTagChange.Action.REMOVE
    ClientTagChange.objects.bulk_create(
        ClientTagChange(client_id=pk, tag=tag, action=action, at=at, reason=reason[:200], source=source)
        for pk in sorted(changed)
    )
    return changed


def tags_ensure(*, names) -> dict[str, int]:
    """The id of the tag called each of `names`, creating the missing ones in bulk."""
    wanted = {name.strip()[:100] for name in names if name and name.strip()}
    if not wanted:
        return {}
    found = dict(Tag.objects.filter(name__in=wanted).values_list("name", "id"))
    if missing := wanted - set(found):
        Tag.objects.bulk_create([Tag(name=name) for name in sorted(missing)], ignore_conflicts=True)
        found = dict(Tag.objects.filter(name__in=wanted).values_list("name", "id"))
    return found


@transaction.atomic
def client_tags_set(
    *, tags: dict[int, set[int]], managed: set[int], reason: str, source: str,
    keep: set[tuple[int, int]] = frozenset(), now=None,
) -> set[int]:
    """Make each client's tags among `managed` exactly `tags[client id]`, in bulk, and log it.

    A member system that owns some tags (`managed`) says which of them each client has;
    other tags are left alone, and so are the (client id, tag id) pairs in `keep` (e.g.
    a change of Gatehouse's own not yet sent to that system). Every change is logged as
    a ClientTagChange with `reason` and `source`. A constant number of queries. Returns
    the ids of the clients changed.
    """
    if not tags or not managed:
        return set()
    through = Client.tags.through
    current = {
        (client_id, tag_id): pk
        for pk, client_id, tag_id in through.objects.filter(
            client_id__any=tags, tag_id__any=managed
        ).values_list("pk", "client_id", "tag_id")
    }
    wanted = {(client_id, tag_id) for client_id, ids in tags.items() for tag_id in ids if tag_id in managed}
    adds = sorted(wanted - set(current) - set(keep))
    removes = sorted(set(current) - wanted - set(keep))
    if removes:
        through.objects.filter(pk__any=[current[pair] for pair in removes]).delete()
    # Rows, not model instances: a members page of a big club adds thousands (clients.bulk).
    rows_write(model=through, rows=[{"client_id": c, "tag_id": t} for c, t in adds],
               unique_fields=["client", "tag"])  # one added meanwhile is left as it is
    at, why = now or timezone.now(), reason[:200]
    logged = ((ClientTagChange.Action.ADD.value, adds), (ClientTagChange.Action.REMOVE.value, removes))
    rows_write(model=ClientTagChange, rows=[
        {"client_id": c, "tag_id": t, "action": action, "at": at, "reason": why, "source": source}
        for action, pairs in logged for c, t in pairs
    ])
    return {client_id for client_id, _ in (*adds, *removes)}
