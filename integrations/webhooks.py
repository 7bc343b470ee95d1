"""Receiving vendor webhooks: signature over the raw body (or, for a vendor that cannot
sign, a secret token in the address), stored once, handed to a task."""

import hashlib
import hmac
import logging
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from config.json_input import JsonRefused, json_loads_bounded
from integrations.connectors import connector_for
from integrations.crypto import SECRETS_UNREADABLE
from integrations.models import Integration, WebhookEvent
from integrations.queue import task_queue

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


def webhook_receive(*, integration: Integration, body: bytes, headers,
                    token: str | None = None) -> tuple[WebhookEvent, bool]:
    """Verify and store one webhook delivery; returns (event, created).

    A vendor that signs is checked by its signature header; one that cannot
    (Connector.webhook_token_secret) by the token in the address (`token`), which is never
    logged. A repeat of an event already stored returns it with created=False and queues
    nothing. Raises WebhookRefused for oversized, unsigned, forged or unreadable deliveries,
    404 for a wrong or missing token, and 503 while a stored secret cannot be read.
    """
    connector = connector_for(integration)
    by_token = bool(connector.webhook_token_secret)
    if not (connector.webhook_signature_header or by_token) or (token is not None and not by_token):
        raise WebhookRefused("This integration does not take webhooks.", status=404)
    if len(body) > MAX_BODY_BYTES:
        raise WebhookRefused("The body is too large.", status=413)
    if not integration.secrets_readable:
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
