"""Writes to client records. Every function is keyword-only and named <thing>_<verb>."""

from django.db import transaction
from django.utils import timezone

from clients.models import Client, ClientIdentity, IdentityType


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
