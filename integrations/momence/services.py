"""Writes to Momence's own tables: tokens, tag and member mirrors, deliveries. All in bulk."""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from clients.services import tags_ensure
from integrations.crypto import secrets_encrypt
from integrations.models import Integration
from integrations.momence.models import (
    CheckinDelivery,
    Delivery,
    MomenceMember,
    MomenceTag,
    MomenceToken,
    TagPush,
)

MAX_ATTEMPTS = 5  # a delivery that failed this often is given up (status failed)


def momence_token_save(*, integration: Integration, account: str, access_token: str, refresh_token: str,
                       access_expires_at: datetime, refresh_expires_at: datetime | None) -> None:
    """Store the integration's tokens encrypted (one row per integration)."""
    MomenceToken.objects.update_or_create(integration=integration, defaults={
        "account": account, "access_expires_at": access_expires_at, "refresh_expires_at": refresh_expires_at,
        "token": secrets_encrypt({"access_token": access_token, "refresh_token": refresh_token}),
    })


def momence_token_delete(*, integration: Integration) -> None:
    """Forget the integration's tokens (the next call logs in again)."""
    MomenceToken.objects.filter(integration=integration).delete()


def momence_tags_upsert(*, integration: Integration, tags: dict[str, str]) -> tuple[int, int, int]:
    """Mirror Momence tags (id -> name), each tied to the Gatehouse tag of its name (created
    when missing). Returns (created, updated, unchanged)."""
    existing = {
        row["momence_id"]: row
        for row in MomenceTag.objects.filter(integration=integration, momence_id__in=list(tags)).values(
            "momence_id", "name", "tag_id")
    }
    stale = {momence_id: name for momence_id, name in tags.items()
             if momence_id not in existing or existing[momence_id]["name"] != name}
    if not stale:
        return 0, 0, len(tags)
    tag_ids = tags_ensure(names=stale.values())
    MomenceTag.objects.bulk_create(
        [MomenceTag(integration=integration, momence_id=momence_id, name=name, tag_id=tag_ids[name])
         for momence_id, name in stale.items()],
        update_conflicts=True, unique_fields=["integration", "momence_id"], update_fields=["name", "tag_id"],
    )
    created = sum(1 for momence_id in stale if momence_id not in existing)
    return created, len(stale) - created, len(tags) - len(stale)


def momence_members_upsert(
    *, integration: Integration, members: dict[str, tuple[int, datetime | None]]
) -> int:
    """Remember each member's client and when Momence last saw them (member id ->
    (client id, last seen)); rows that did not change are not written. Returns rows written."""
    existing = {
        row[0]: row[1:]
        for row in MomenceMember.objects.filter(integration=integration, member_id__in=list(members))
        .values_list("member_id", "client_id", "last_seen")
    }
    writes = [
        MomenceMember(integration=integration, member_id=member_id, client_id=client_id, last_seen=last_seen)
        for member_id, (client_id, last_seen) in members.items()
        if existing.get(member_id) != (client_id, last_seen)
    ]
    MomenceMember.objects.bulk_create(writes, update_conflicts=True,
                                      unique_fields=["integration", "member_id"],
                                      update_fields=["client_id", "last_seen"])
    return len(writes)


def momence_members_checked(*, integration: Integration, last_seen: dict[str, datetime | None]) -> int:
    """Note that these members' bought memberships were read now, as of `last_seen`."""
    rows = list(MomenceMember.objects.filter(integration=integration, member_id__in=list(last_seen)))
    now = timezone.now()
    for row in rows:
        row.memberships_last_seen, row.memberships_checked_at = last_seen[row.member_id], now
    return MomenceMember.objects.bulk_update(rows, ["memberships_last_seen", "memberships_checked_at"])


@dataclass(frozen=True)
class PlannedCheckin:
    booking_id: int
    booking_ref: str
    door_access_id: int


def checkins_plan(*, integration: Integration, planned: list[PlannedCheckin]) -> int:
    """Queue one check-in per booking; a booking already queued (or sent) is left alone.
    Returns how many were queued now."""
    known = set(CheckinDelivery.objects.filter(
        integration=integration, booking_id__in=[p.booking_id for p in planned]
    ).values_list("booking_id", flat=True))
    fresh = {p.booking_id: p for p in planned if p.booking_id not in known}
    CheckinDelivery.objects.bulk_create(
        [CheckinDelivery(integration=integration, booking_id=p.booking_id, booking_ref=p.booking_ref,
                         door_access_id=p.door_access_id) for p in fresh.values()],
        ignore_conflicts=True,
    )
    return len(fresh)


@dataclass(frozen=True)
class PlannedTagPush:
    client_id: int
    tag_id: int
    action: str
    change_id: int


def tag_pushes_plan(*, integration: Integration, planned: list[PlannedTagPush]) -> int:
    """Queue the latest change per (client, tag); a change older than the one already
    queued or sent for that pair is ignored, so reading a change twice sends it once.
    Returns how many pushes were queued now."""
    latest: dict[tuple[int, int], PlannedTagPush] = {}
    for push in sorted(planned, key=lambda p: p.change_id):
        latest[(push.client_id, push.tag_id)] = push
    known = {
        (c, t): change_id
        for c, t, change_id in TagPush.objects.filter(
            integration=integration, client_id__in={c for c, _ in latest}, tag_id__in={t for _, t in latest}
        ).values_list("client_id", "tag_id", "change_id")
    }
    fresh = [p for pair, p in latest.items() if known.get(pair, -1) < p.change_id]
    TagPush.objects.bulk_create(
        [TagPush(integration=integration, client_id=p.client_id, tag_id=p.tag_id, action=p.action,
                 change_id=p.change_id, status=Delivery.Status.PENDING, attempts=0, last_error="")
         for p in fresh],
        update_conflicts=True, unique_fields=["integration", "client", "tag"],
        update_fields=["action", "change_id", "status", "attempts", "last_error"],
    )
    return len(fresh)


@dataclass(frozen=True)
class Outcome:
    """What one delivery attempt did: sent, or the error and whether trying again can help."""

    delivery_id: int
    sent: bool
    error: str = ""
    retry: bool = True


@transaction.atomic
def deliveries_record(*, model: type[Delivery], outcomes: list[Outcome]) -> tuple[int, int]:
    """Record attempts: sent ones are done; failed ones stay pending until MAX_ATTEMPTS (or
    at once when retrying cannot help), then are given up. Returns (sent, failed)."""
    now = timezone.now()
    by_id = {o.delivery_id: o for o in outcomes}
    rows = list(model.objects.select_for_update().filter(pk__in=list(by_id)))
    for row in rows:
        outcome = by_id[row.pk]
        row.attempts, row.last_attempt_at = row.attempts + 1, now
        if outcome.sent:
            row.status, row.sent_at, row.last_error = Delivery.Status.SENT, now, ""
        else:
            row.last_error = outcome.error[:2000]
            gave_up = not outcome.retry or row.attempts >= MAX_ATTEMPTS
            row.status = Delivery.Status.FAILED if gave_up else Delivery.Status.PENDING
    model.objects.bulk_update(rows, ["attempts", "last_attempt_at", "status", "sent_at", "last_error"])
    sent = sum(1 for o in outcomes if o.sent)
    return sent, len(outcomes) - sent


def deliveries_retry(*, model: type[Delivery], ids: list[int]) -> int:
    """Give failed deliveries another round of attempts (the admin's "Retry")."""
    return model.objects.filter(pk__in=ids, status=Delivery.Status.FAILED).update(
        status=Delivery.Status.PENDING, attempts=0)
