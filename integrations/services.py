"""Writes to integrations: create, update, delete (schedules follow), secrets rotation."""

from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from integrations.connectors import connector_class, connector_for, endpoint_origin
from integrations.crypto import ALL_FIELDS, secret_fields_rotate
from integrations.models import Integration, SyncIssue
from integrations.scheduling import schedules_delete, schedules_sync
from integrations.selectors import member_sync_integration
from integrations.webhooks import webhook_token_new

ENDPOINT_CHANGED = (
    "Changing the address sends the stored secrets to a new host: enter them again to confirm."
)
ENDPOINT_SECRET_AGAIN = "Enter it again: the address above now points at another host."  # noqa: S105
HTTP_REFUSED = (
    "Use an https:// address: over http the secrets would cross the network unencrypted "
    "(INTEGRATION_ALLOW_HTTP is off)."
)


def integration_endpoints_check(
    *, integration: Integration | None, kind: str, settings: dict, secrets: dict[str, str],
) -> dict[str, list[str]]:
    """What is wrong with where the secrets would be sent, by field name (empty: nothing).

    A new host (scheme, host and port; a path is fine) in an endpoint field (a Base URL)
    needs every stored secret entered again in the same save: otherwise anyone allowed to
    edit the integration could send its keys to a host of their own. Without
    settings.INTEGRATION_ALLOW_HTTP (off in production) an endpoint must be https.
    """
    specs = connector_class(kind).form_fields()
    problems: dict[str, list[str]] = {}
    for spec in specs:
        if not spec.is_endpoint:
            continue
        origin = endpoint_origin(spec.effective(settings))
        if origin is not None and origin[0] != "https" and not django_settings.INTEGRATION_ALLOW_HTTP:
            problems.setdefault(spec.name, []).append(HTTP_REFUSED)
    if integration is None or integration.pk is None:
        return problems
    before = integration.settings or {}
    moved = [spec.name for spec in specs if spec.is_endpoint
             and endpoint_origin(spec.effective(before)) != endpoint_origin(spec.effective(settings))]
    if not moved:
        return problems
    stored = integration.stored_secrets().values
    missing = [spec.name for spec in specs if spec.secret and stored.get(spec.name) and not secrets.get(spec.name)]
    if missing:
        for name in moved:
            problems.setdefault(name, []).append(ENDPOINT_CHANGED)
        for name in missing:
            problems.setdefault(name, []).append(ENDPOINT_SECRET_AGAIN)
    return problems


@transaction.atomic
def integration_save(
    *,
    integration: Integration | None = None,
    kind: str = "",
    name: str,
    is_active: bool = True,
    settings: dict,
    secrets: dict[str, str],
    is_demo: bool = False,
) -> Integration:
    """Create or update an integration and bring its schedules in line.

    `is_demo` marks a new integration as `make demo`'s (an existing one keeps its mark).

    `secrets` holds only the secret fields given now: an empty value keeps the stored
    one, so forms never need to show a secret back; a stored secret the current keys
    cannot read stays as it is until a new value is given. Raises ValidationError when
    `integration_endpoints_check` finds a problem (the settings form shows them first).
    """
    if integration is None:
        cls = connector_class(kind)
        if cls.single_instance and Integration.objects.filter(kind=kind).exists():
            raise ValidationError(
                f"Only one {cls.label} integration is allowed per organisation; "
                "add another configuration to the existing one instead."
            )
        integration = Integration(kind=kind, is_demo=is_demo)
    # What is in the database, not what the caller's copy says: the check compares with it.
    previous = (Integration.objects.select_for_update().filter(pk=integration.pk).first()
                if integration.pk else None)
    if problems := integration_endpoints_check(integration=previous, kind=integration.kind,
                                               settings=settings, secrets=secrets):
        raise ValidationError(problems)
    stored = previous.stored_secrets() if previous is not None else integration.stored_secrets()
    given = {k: v for k, v in secrets.items() if v}
    kept = {k: token for k, token in stored.unreadable.items() if k not in given}
    if given:
        kept.pop(ALL_FIELDS, None)  # an unreadable whole-dict store is replaced by what is entered
    integration.name, integration.is_active, integration.settings = name, is_active, settings
    token_name = connector_class(integration.kind).webhook_token_secret
    if token_name and not stored.values.get(token_name):
        # The webhook address's token: made once (again if the keys lost it: it has no field to retype).
        given[token_name] = webhook_token_new()
        kept.pop(token_name, None)
    integration.set_secrets({**stored.values, **given}, kept=kept)
    integration.save()
    schedules_sync(integration=integration)
    return integration


@transaction.atomic
def integration_webhook_token_rotate(*, integration: Integration) -> bool:
    """Give the integration a new webhook address (a new token); the old one stops working.

    Returns False for a connector whose webhooks carry no token (nothing changes). The
    other secrets stay as stored, unreadable ones too.
    """
    token_name = connector_class(integration.kind).webhook_token_secret
    if not token_name:
        return False
    locked = Integration.objects.select_for_update().get(pk=integration.pk)
    stored = locked.stored_secrets()
    locked.set_secrets({**stored.values, token_name: webhook_token_new()},
                       kept={k: v for k, v in stored.unreadable.items() if k != token_name})
    locked.save(update_fields=["secrets_token", "updated_at"])
    integration.secrets_token = locked.secrets_token
    return True


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


def sync_issue_resolve(*, issue: SyncIssue, user: str) -> bool:
    """Mark an open issue resolved by `user`; returns whether it was still open."""
    return bool(SyncIssue.objects.filter(pk=issue.pk, resolved_at__isnull=True).update(
        resolved_at=timezone.now(), resolved_by=user))


def integrations_rotate_secrets() -> int:
    """Re-encrypt every integration's secrets under the newest key. Returns how many."""
    rotated = 0
    for integration in Integration.objects.exclude(secrets_token="").only("pk", "secrets_token"):
        Integration.objects.filter(pk=integration.pk).update(
            secrets_token=secret_fields_rotate(integration.secrets_token)
        )
        rotated += 1
    return rotated


def client_sync_start(*, client) -> Integration | None:
    """Queue "sync this member now" from the integration the client came from; returns that
    integration, or None when it cannot sync one member (nothing is queued then)."""
    integration = member_sync_integration(client)
    if integration is not None:
        async_task("integrations.tasks.client_sync_task", integration.pk, client.external_id,
                   task_name=f"{integration.name}: sync member {client.external_id}")
    return integration

