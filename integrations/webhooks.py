"""Receiving vendor webhooks: signature over the raw body (or, for a vendor that cannot
sign, a secret token in the address), stored once, handed to a task."""

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, transaction
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import OrmQ

from config.json_input import JsonRefused, json_loads_bounded
from integrations.connectors import Connector, connector_for
from integrations.crypto import SECRETS_UNREADABLE
from integrations.models import Integration, WebhookEvent
from integrations.queue import task_queue, task_row

logger = logging.getLogger("gatehouse.webhooks")

MAX_BODY_BYTES = 256 * 1024
FUTURE_SKEW = timedelta(minutes=5)  # a vendor's clock a little ahead of ours


class WebhookRefused(Exception):
    """The request is not a genuine, usable event; `status` is the HTTP answer."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def signature_valid(*, secret: str, body: bytes, signature: str) -> bool:
    """HMAC-SHA256 of the raw body, hex, compared in constant time."""
    if not secret or not signature:
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature.strip().lower())


def webhook_token_new() -> str:
    """A fresh token for a webhook address (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def token_valid(*, expected: str, given: str) -> bool:
    """Whether the address's token is the stored one, compared in constant time."""
    return bool(expected) and bool(given) and hmac.compare_digest(expected.encode(), given.encode())


@dataclass(frozen=True)
class _Receiver:
    """An integration as read for receiving its webhooks, with its connector (secrets decrypted once)."""

    connector: Connector
    readable: bool

    @classmethod
    def of(cls, integration: Integration) -> "_Receiver":
        return cls(connector_for(integration), integration.secrets_readable)


# Active integrations as this process last read them, for the one-statement store only: that
# statement stores nothing unless the row is still as read (see _stored_in_one_statement).
_receivers: dict[int, _Receiver] = {}


def receivers_forget(integration_id: int | None = None) -> None:
    """Drop what this process remembers of an integration's webhooks (all, given None)."""
    if integration_id is None:
        _receivers.clear()
    else:
        _receivers.pop(integration_id, None)


class IntegrationChanged(WebhookRefused):
    """The integration was saved, deactivated or deleted since it was read: nothing was stored."""

    def __init__(self):
        super().__init__("Not available now; try again later.", status=503)


def webhook_deliver(*, kind: str, integration_id: int, body: bytes, headers,
                    token: str | None = None) -> tuple[WebhookEvent, bool]:
    """A delivery to /webhooks/<kind>/<integration_id>/: webhook_receive for the active integration,
    404 without one. The integration is read once per process where a store can tell it changed."""
    remembered = _receivers.get(integration_id)
    if remembered is not None and remembered.connector.integration.kind == kind:
        try:
            return _receive(remembered, body=body, headers=headers, token=token)
        except WebhookRefused as refused:
            # Refused for what the integration holds (secret, token, state): is it still as read?
            if refused.status not in (401, 404, 503):
                raise
            receivers_forget(integration_id)
            integration = _active(kind=kind, integration_id=integration_id)
            if integration is not None and _same(integration, remembered.connector.integration):
                raise
    else:
        integration = _active(kind=kind, integration_id=integration_id)
    if integration is None:
        raise WebhookRefused("No such integration.", status=404)
    receiver = _Receiver.of(integration)
    if _one_statement():
        _receivers[integration_id] = receiver
    return _receive(receiver, body=body, headers=headers, token=token)


def _active(*, kind: str, integration_id: int) -> Integration | None:
    return Integration.objects.filter(pk=integration_id, kind=kind, is_active=True).first()


def webhook_receive(*, integration: Integration, body: bytes, headers,
                    token: str | None = None) -> tuple[WebhookEvent, bool]:
    """Verify and store one webhook delivery; returns (event, created).

    A vendor that signs is checked by its signature header; one that cannot
    (Connector.webhook_token_secret) by the token in the address (`token`), which is never
    logged. A repeat of an event already stored returns it with created=False and queues
    nothing. Raises WebhookRefused for oversized, unsigned, forged or unreadable deliveries,
    404 for a wrong or missing token, and 503 while a stored secret cannot be read.
    """
    return _receive(_Receiver.of(integration), body=body, headers=headers, token=token)


def _receive(receiver: _Receiver, *, body: bytes, headers, token: str | None) -> tuple[WebhookEvent, bool]:
    connector = receiver.connector
    integration = connector.integration
    by_token = bool(connector.webhook_token_secret)
    if not (connector.webhook_signature_header or by_token) or (token is not None and not by_token):
        raise WebhookRefused("This integration does not take webhooks.", status=404)
    if len(body) > MAX_BODY_BYTES:
        raise WebhookRefused("The body is too large.", status=413)
    if not receiver.readable:
        # 503, so the vendor delivers again once a manager has entered the secret again.
        logger.warning("integration=%s webhook refused: %s", integration.pk, SECRETS_UNREADABLE)
        raise WebhookRefused("Not available now; try again later.", status=503)
    if by_token:
        if not token_valid(expected=connector.secrets.get(connector.webhook_token_secret, ""), given=token or ""):
            logger.warning("integration=%s webhook refused: wrong or missing address token", integration.pk)
            raise WebhookRefused("No.", status=404)
    elif not signature_valid(secret=connector.secrets.get(connector.webhook_secret_field, ""), body=body,
                             signature=headers.get(connector.webhook_signature_header, "")):
        logger.warning("integration=%s webhook refused: bad signature", integration.pk)
        raise WebhookRefused("The signature does not match.", status=401)
    try:
        payload = json_loads_bounded(body, max_bytes=MAX_BODY_BYTES)
    except JsonRefused as refused:
        raise WebhookRefused(f"The event cannot be read: {refused}", status=refused.status) from None
    try:
        event_id, event_type = connector.webhook_event(payload)
        occurred_at = connector.webhook_event_time(payload)
    except (ValueError, TypeError, KeyError, OverflowError) as error:
        raise WebhookRefused(f"The event cannot be read: {error}") from None
    webhook_freshness_check(integration=integration, event_id=str(event_id), occurred_at=occurred_at)
    event_id, event_type = str(event_id)[:100], str(event_type)[:100]
    if _one_statement():
        stored = _stored_in_one_statement(integration=integration, event_id=event_id, event_type=event_type,
                                          payload=payload)
    else:
        stored = _stored(integration=integration, event_id=event_id, event_type=event_type, payload=payload)
    if stored is None:
        logger.info("integration=%s webhook %s repeated; ignored", integration.pk, event_id)
        return WebhookEvent.objects.get(integration=integration, event_id=event_id), False
    return stored, True


def _task(*, integration: Integration, event_id: str) -> tuple[tuple, dict]:
    return ("integrations.tasks.webhook_task",), {"integration_id": integration.pk, "event_id": event_id}


def _stored(*, integration: Integration, event_id: str, event_type: str, payload) -> WebhookEvent | None:
    """The event and its task, committed together (integrations.queue); None for a repeat."""
    args, kwargs = _task(integration=integration, event_id=event_id)
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(integration=integration, event_id=event_id,
                                                event_type=event_type, payload=payload)
            task_queue(*args, **kwargs)
    except IntegrityError:
        return None
    return event


def _one_statement() -> bool:
    """Whether the event and its task can be written in one statement: PostgreSQL, with tasks in
    the same database (the default broker, not sync mode)."""
    return connection.vendor == "postgresql" and Conf.ORM == DEFAULT_DB_ALIAS and not Conf.SYNC


def _same(a: Integration, b: Integration) -> bool:
    return (a.kind, a.is_active, a.updated_at, a.secrets_token) == (b.kind, b.is_active, b.updated_at,
                                                                     b.secrets_token)


def _stored_in_one_statement(*, integration: Integration, event_id: str, event_type: str,
                             payload) -> WebhookEvent | None:
    """The event and its task row in one statement (one round trip, no transaction to open), and
    only while the integration's row is as it was read: active, the same secrets, not saved since.
    Raises IntegrationChanged otherwise; None for a repeat."""
    args, kwargs = _task(integration=integration, event_id=event_id)
    task = task_row(*args, **kwargs)
    received_at = timezone.now()
    quote = connection.ops.quote_name
    events, integrations, tasks = (quote(m._meta.db_table) for m in (WebhookEvent, Integration, OrmQ))
    # The names come from the models; every value is a parameter.
    sql = f"""
        WITH still AS (
            SELECT id FROM {integrations}
            WHERE id = %s AND kind = %s AND is_active AND updated_at = %s AND secrets_token = %s
        ), event AS (
            INSERT INTO {events} (integration_id, event_id, event_type, payload, received_at, status, error)
            SELECT id, %s, %s, %s, %s, %s, '' FROM still
            ON CONFLICT (integration_id, event_id) DO NOTHING RETURNING id
        ), task AS (
            INSERT INTO {tasks} ({quote("key")}, payload, {quote("lock")}) SELECT %s, %s, %s FROM event RETURNING id
        )
        SELECT (SELECT count(*) FROM still), (SELECT id FROM event), (SELECT count(*) FROM task)"""  # noqa: S608
    json = WebhookEvent._meta.get_field("payload").get_db_prep_value(payload, connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, [
            integration.pk, integration.kind, integration.updated_at, integration.secrets_token,
            event_id, event_type, json, received_at, WebhookEvent.Status.RECEIVED,
            task["key"], task["payload"], task["lock"],
        ])
        still, pk, _ = cursor.fetchone()
    if not still:
        raise IntegrationChanged()
    if pk is None:
        return None
    event = WebhookEvent(pk=pk, integration=integration, event_id=event_id, event_type=event_type,
                         payload=payload, received_at=received_at)
    event._state.adding, event._state.db = False, DEFAULT_DB_ALIAS
    return event


def webhook_max_age() -> timedelta:
    """How old (by its own signed time) an event may be and still be accepted."""
    return timedelta(hours=settings.WEBHOOK_MAX_AGE_HOURS)


def webhook_dedupe_keep() -> timedelta:
    """How long a stored event must be kept to catch every replay the freshness check lets in."""
    return webhook_max_age() + FUTURE_SKEW


def webhook_freshness_check(*, integration: Integration, event_id: str, occurred_at: datetime | None,
                            now: datetime | None = None) -> None:
    """Refuse (400, logged) an event dated outside [now - max age, now + a little skew].

    Stored events are kept at least as long as the max age (integrations.housekeeping), so
    a replay of an accepted event is always caught by the dedupe record or by this check.
    Events without a time of their own (None) are not judged.
    """
    if occurred_at is None:
        return
    now = now or timezone.now()
    if now - webhook_max_age() <= occurred_at <= now + FUTURE_SKEW:
        return
    logger.warning("integration=%s %s webhook event %r refused: dated %s, outside the %d hour tolerance",
                   integration.pk, integration.kind, event_id[:100], occurred_at.isoformat(),
                   settings.WEBHOOK_MAX_AGE_HOURS)
    raise WebhookRefused("The event is too old (or dated in the future) to be accepted.")
