"""The unlock service: decide, pay and log in one transaction, open the door, refund on failure."""

import logging
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accessctl.backends import DoorBackendMissing, UnlockResult, door_backend
from accessctl.decisions import door_decide
from accessctl.models import Door, UnlockAttempt
from accessctl.services import DoorEntry, door_accesses_record
from clients.models import Client
from packages.services import credits_refund, credits_spend

logger = logging.getLogger("gatehouse.doors")

# DoorAccess.source of the doors Gatehouse opens itself (source_ref: the UnlockAttempt id).
GATEHOUSE_SOURCE = "gatehouse"


def door_unlock(
    *, client: Client, door: Door, latitude: float | None, longitude: float | None, request_id: str,
    now: datetime | None = None,
) -> UnlockAttempt:
    """Open `door` for `client` if the door rules allow it, exactly once per `request_id`.

    `request_id` is the app's idempotency key: a second call with it returns the first
    attempt and neither charges nor opens again. The decision's credits are taken and
    the access-log entry written in one transaction (never below zero); then the door
    system is asked to open. When it fails the credits are refunded and the entry says
    why; when it opens, a DoorAccess (source "gatehouse") is recorded so check-ins and
    attendance follow. Must not run inside an outer transaction (the door call is slow).
    Returns the attempt; its `outcome` is opened, refused, failed or (a double submit
    still being handled) pending.
    """
    now = now or timezone.now()
    previous = UnlockAttempt.objects.filter(client=client, idempotency_key=request_id).first()
    if previous is not None:
        return previous
    decision = door_decide(client=client, door=door, latitude=latitude, longitude=longitude, at=now)
    attempt = UnlockAttempt(
        client=client, door=door, idempotency_key=request_id, attempted_at=now,
        outcome=UnlockAttempt.Outcome.PENDING if decision.allowed else UnlockAttempt.Outcome.REFUSED,
        method=decision.method if decision.allowed else "", reason=decision.reason[:300],
        credits=decision.credits if decision.allowed else 0,
        visit_type=decision.visit_type, visit_type_name=decision.visit_type.name if decision.visit_type else "",
        client_package=decision.client_package if decision.allowed else None,
        latitude=_coordinate(latitude), longitude=_coordinate(longitude), distance_m=decision.distance_m,
    )
    try:
        with transaction.atomic():
            attempt.save()
            if attempt.credits:
                credits_spend(client_package=decision.client_package, amount=attempt.credits,
                              reason=f"Visit: {door} ({attempt.visit_type_name})",
                              reference=attempt.credit_reference)
    except IntegrityError:
        # The same key was submitted twice at once: the other request handles it.
        return UnlockAttempt.objects.get(client=client, idempotency_key=request_id)
    except ValidationError:
        # A concurrent spend took the credits between the decision and the payment.
        return _refused_late(attempt, f"Not enough credits left on your {decision.client_package.package.name}.")
    if attempt.outcome == UnlockAttempt.Outcome.REFUSED:
        return attempt
    return _door_open(attempt, latitude, longitude)


def _refused_late(attempt: UnlockAttempt, reason: str) -> UnlockAttempt:
    attempt.pk = None
    attempt.outcome, attempt.reason, attempt.credits = UnlockAttempt.Outcome.REFUSED, reason, 0
    attempt.method, attempt.client_package = "", None
    try:
        with transaction.atomic():
            attempt.save()
    except IntegrityError:
        return UnlockAttempt.objects.get(client=attempt.client, idempotency_key=attempt.idempotency_key)
    return attempt


def _door_open(attempt: UnlockAttempt, latitude, longitude) -> UnlockAttempt:
    door = attempt.door
    try:
        result = door_backend(door).unlock(door, latitude=latitude, longitude=longitude)
    except DoorBackendMissing as missing:
        result = UnlockResult(False, str(missing))
    except Exception as error:  # any failure of the door system must refund, whatever its type
        logger.warning("unlock of door %s failed: %s", door.pk, type(error).__name__)
        result = UnlockResult(False, str(error)[:200] or type(error).__name__)
    attempt.door_answer, attempt.door_online = (result.message or "")[:300], result.online
    with transaction.atomic():
        if result.ok:
            attempt.outcome = UnlockAttempt.Outcome.OPENED
            attempt.save(update_fields=["outcome", "door_answer", "door_online"])
            door_accesses_record(source=GATEHOUSE_SOURCE, entries=[DoorEntry(
                client_id=attempt.client_id, door=door, accessed_at=attempt.attempted_at, granted=True,
                source_ref=str(attempt.pk),
            )])
            return attempt
        attempt.outcome = UnlockAttempt.Outcome.FAILED
        attempt.reason = f"The door did not open ({attempt.door_answer or 'no answer'})."
        if attempt.credits:
            credits_refund(client_package=attempt.client_package, reference=attempt.credit_reference,
                           reason=f"Refund: {door} did not open")
            attempt.refunded = True
            attempt.reason += (" Your credit was refunded." if attempt.credits == 1
                               else f" Your {attempt.credits} credits were refunded.")
        attempt.reason = attempt.reason[:300]
        attempt.save(update_fields=["outcome", "reason", "refunded", "door_answer", "door_online"])
    return attempt


def _coordinate(value) -> float | None:
    return None if value is None else round(float(value), 6)
