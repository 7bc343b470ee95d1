"""Writes to client records. Every function is keyword-only and named <thing>_<verb>."""

from django.db import transaction
from django.utils import timezone

from clients.models import Client, ClientIdentity, IdentityType
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
        for row in Client.all_objects.filter(source=source, external_id__in=latest).values(
            "id", "external_id", *CLIENT_FIELDS
        )
    }
    now = timezone.now()
    writes = []
    for record in latest.values():
        row = existing.get(record.external_id)
        if row is None and (record.deleted or (not record.is_active and not create_inactive)):
            result.skipped += 1
            continue
        values = {
            "first_name": record.first_name, "last_name": record.last_name, "email": record.email,
            "phone": record.phone, "date_of_birth": record.date_of_birth,
            "home_location_id": record.home_location_id,
            "is_active": record.is_active and not record.deleted, "alt_id": record.alt_id,
            "deleted_at": ((row and row["deleted_at"]) or now) if record.deleted else None,
        }
        if row is None:
            result.created += 1
        elif all(row[name] == values[name] for name in CLIENT_FIELDS):
            result.unchanged += 1
            continue
        else:
            result.updated += 1
        writes.append(Client(source=source, external_id=record.external_id, created_at=now,
                             updated_at=now, **values))
    if writes:
        Client.all_objects.bulk_create(
            writes, update_conflicts=True, unique_fields=["source", "external_id"],
            update_fields=[*CLIENT_FIELDS, "updated_at"], batch_size=1000,
        )
    result.ids = dict(
        Client.all_objects.filter(source=source, external_id__in=latest).values_list("external_id", "id")
    )
    result.changed_client_ids = {result.ids[w.external_id] for w in writes}
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
            client_id__in=client_ids, identity_type_id__in=kinds
        ).values_list("pk", "client_id", "identity_type_id", "value")
    }
    changed = {key: value for key, value in values.items() if current.get(key, (None, None))[1] != value}
    if not changed:
        return 0
    now = timezone.now()
    for kind in kinds:  # one statement per identity type (vendors bring one)
        ClientIdentity.objects.filter(
            identity_type_id=kind, value__in={v for (_, k), v in changed.items() if k == kind}
        ).exclude(client_id__in=client_ids).delete()
    ClientIdentity.objects.filter(pk__in=[current[k][0] for k in changed if k in current]).delete()
    ClientIdentity.objects.bulk_create(
        ClientIdentity(client_id=c, identity_type_id=k, value=v, changed_at=now)
        for (c, k), v in changed.items()
    )
    return len(changed)
