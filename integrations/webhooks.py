"""Receiving vendor webhooks: signature over the raw body, stored once, handed to a task."""

import hashlib
import hmac
import logging

from django.db import IntegrityError, transaction

from config.json_input import JsonRefused, json_loads_bounded
from integrations.connectors import connector_for
from integrations.models import Integration, WebhookEvent
from integrations.queue import task_queue

logger = logging.getLogger("gatehouse.webhooks")

MAX_BODY_BYTES = 256 * 1024


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


def webhook_receive(*, integration: Integration, body: bytes, headers) -> tuple[WebhookEvent, bool]:
    """Verify and store one webhook delivery; returns (event, created).

    A repeat of an event already stored returns it with created=False and queues nothing.
    Raises WebhookRefused for oversized, unsigned, forged or unreadable deliveries.
    """
    if len(body) > MAX_BODY_BYTES:
        raise WebhookRefused("The body is too large.", status=413)
    connector = connector_for(integration)
    if not connector.webhook_signature_header:
        raise WebhookRefused("This integration does not take webhooks.", status=404)
    secret = connector.secrets.get(connector.webhook_secret_field, "")
    if not signature_valid(
        secret=secret, body=body, signature=headers.get(connector.webhook_signature_header, "")
    ):
        logger.warning("integration=%s webhook refused: bad signature", integration.pk)
        raise WebhookRefused("The signature does not match.", status=401)
    try:
        payload = json_loads_bounded(body, max_bytes=MAX_BODY_BYTES)
    except JsonRefused as refused:
        raise WebhookRefused(f"The event cannot be read: {refused}", status=refused.status) from None
    try:
        event_id, event_type = connector.webhook_event(payload)
    except (ValueError, TypeError, KeyError) as error:
        raise WebhookRefused(f"The event cannot be read: {error}") from None
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                integration=integration, event_id=str(event_id)[:100],
                event_type=str(event_type)[:100], payload=payload,
            )
            task_queue("integrations.tasks.webhook_task", event.pk)
    except IntegrityError:
        logger.info("integration=%s webhook %s repeated; ignored", integration.pk, event_id)
        return WebhookEvent.objects.get(integration=integration, event_id=str(event_id)[:100]), False
    return event, True
