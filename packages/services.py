"""Writes to packages, bookings and the credit ledger."""

from collections import defaultdict
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction

from packages.models import Booking, ClientPackage, CreditEntry

# A door entry marks a booking attended when the class starts at most this long after
# the entry and has not ended before it (the Perfect Gym seed's "close to" rule).
ATTENDANCE_BEFORE_START = timedelta(minutes=30)


@transaction.atomic
def credits_spend(
    *, client_package: ClientPackage, amount: int, reason: str, reference: str
) -> CreditEntry:
    """Take `amount` credits from a client package, once per `reference`.

    A second call with the same reference returns the first entry and takes nothing.
    Raises ValidationError when the balance would go below zero.
    """
    # The row lock serialises concurrent spends on one package (double submits).
    locked = ClientPackage.objects.select_for_update().get(pk=client_package.pk)
    if entry := CreditEntry.objects.filter(client_package=locked, reference=reference).first():
        return entry
    if (locked.credits_remaining or 0) < amount:
        raise ValidationError(f"Not enough credits on {client_package.package.name}.")
    locked.credits_remaining -= amount
    locked.save(update_fields=["credits_remaining", "updated_at"])
    client_package.credits_remaining = locked.credits_remaining
    return CreditEntry.objects.create(
        client_package=locked, change=-amount, balance_after=locked.credits_remaining,
        reason=reason, reference=reference,
    )


@transaction.atomic
def credits_refund(
    *, client_package: ClientPackage, reference: str, reason: str
) -> CreditEntry | None:
    """Give back, once, what the spend `reference` took. Returns the refund entry."""
    locked = ClientPackage.objects.select_for_update().get(pk=client_package.pk)
    spent = CreditEntry.objects.filter(
        client_package=locked, reference=reference, change__lt=0
    ).first()
    if spent is None:
        return None
    refund_reference = f"refund:{reference}"
    if entry := CreditEntry.objects.filter(
        client_package=locked, reference=refund_reference
    ).first():
        return entry
    locked.credits_remaining = (locked.credits_remaining or 0) - spent.change
    locked.save(update_fields=["credits_remaining", "updated_at"])
    client_package.credits_remaining = locked.credits_remaining
    return CreditEntry.objects.create(
        client_package=locked, change=-spent.change, balance_after=locked.credits_remaining,
        reason=reason, reference=refund_reference,
    )


def bookings_mark_attended(
    *, entries: list[tuple[int, int, datetime]],
    before_start: timedelta = ATTENDANCE_BEFORE_START,
) -> int:
    """Mark attended the bookings that door entries fall close to.

    `entries` are (client id, location id, entry time). A booking counts when its
    session is at that location and the entry lies between `before_start` ahead of
    the start and the session's end. Returns how many bookings changed.
    """
    if not entries:
        return 0
    earliest = min(at for _, _, at in entries)
    latest = max(at for _, _, at in entries)
    candidates = Booking.objects.filter(
        client_id__in={c for c, _, _ in entries},
        session__location_id__in={loc for _, loc, _ in entries},
        session__start__lte=latest + before_start,
        session__end__gte=earliest,
        attended=False,
    ).exclude(status=Booking.Status.CANCELLED).values_list(
        "pk", "client_id", "session__location_id", "session__start", "session__end"
    )
    times: dict[tuple[int, int], list[datetime]] = defaultdict(list)
    for client_id, location_id, at in entries:
        times[(client_id, location_id)].append(at)
    hits = [
        pk
        for pk, client_id, location_id, start, end in candidates
        if any(start - before_start <= at <= end for at in times[(client_id, location_id)])
    ]
    return Booking.objects.filter(pk__in=hits).update(attended=True)
