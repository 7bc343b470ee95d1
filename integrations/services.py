"""Writes to integrations: create, update, delete (schedules follow), secrets rotation."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from integrations.connectors import connector_class, connector_for
from integrations.crypto import secrets_rotate
from integrations.models import Integration, SyncIssue
from integrations.scheduling import schedules_delete, schedules_sync


@transaction.atomic
def integration_save(
    *,
    integration: Integration | None = None,
    kind: str = "",
    name: str,
    is_active: bool = True,
    settings: dict,
    secrets: dict[str, str],
) -> Integration:
    """Create or update an integration and bring its schedules in line.

    `secrets` holds only the secret fields given now: an empty value keeps the stored
    one, so forms never need to show a secret back.
    """
    if integration is None:
        cls = connector_class(kind)
        if cls.single_instance and Integration.objects.filter(kind=kind).exists():
            raise ValidationError(
                f"Only one {cls.label} integration is allowed per organisation; "
                "add another configuration to the existing one instead."
            )
        integration = Integration(kind=kind)
    stored = integration.secrets() if integration.secrets_token else {}
    stored.update({k: v for k, v in secrets.items() if v})
    integration.name, integration.is_active, integration.settings = name, is_active, settings
    integration.set_secrets(stored)
    integration.save()
    schedules_sync(integration=integration)
    return integration


@transaction.atomic
def integration_delete(*, integration: Integration) -> None:
    """Delete an integration and its schedules (club records it wrote stay)."""
    integration_id = integration.pk
    integration.delete()
    schedules_delete(integration_id=integration_id)


def sync_issue_retry(*, issue: SyncIssue, user: str = "") -> bool:
    """Fetch the issue's record from the vendor again; resolve the issue when it now syncs.

    Needs a connector that can sync one member (`offers_client_sync`); returns whether
    the issue was resolved. Vendor errors propagate (the record stays an open issue).
    """
    connector = connector_for(issue.integration)
    if not (connector.offers_client_sync and issue.record_key):
        return False
    connector.client_sync(issue.record_key)
    return bool(SyncIssue.objects.filter(pk=issue.pk, resolved_at__isnull=True).update(
        resolved_at=timezone.now(), resolved_by=user or "retry"))


def integrations_rotate_secrets() -> int:
    """Re-encrypt every integration's secrets under the newest key. Returns how many."""
    rotated = 0
    for integration in Integration.objects.exclude(secrets_token="").only("pk", "secrets_token"):
        Integration.objects.filter(pk=integration.pk).update(
            secrets_token=secrets_rotate(integration.secrets_token)
        )
        rotated += 1
    return rotated
