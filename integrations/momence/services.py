"""Writes to Momence's own tables: tokens, tag and member mirrors. All in bulk (what is sent
to Momence goes through the outbox, integrations.outbox)."""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from clients import lookups  # noqa: F401 - registers field__any (one array parameter)
from clients.bulk import rows_write
from clients.services import tags_ensure
from integrations.crypto import secrets_encrypt
from integrations.models import Integration
from integrations.momence.models import MomenceMember, MomenceTag, MomenceToken


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
        for row in MomenceTag.objects.filter(integration=integration, momence_id__any=tags).values(
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
        for row in MomenceMember.objects.filter(integration=integration, member_id__any=members)
        .values_list("member_id", "client_id", "last_seen")
    }
    writes = [
        {"integration_id": integration.pk, "member_id": member_id, "client_id": client_id, "last_seen": last_seen}
        for member_id, (client_id, last_seen) in members.items()
        if existing.get(member_id) != (client_id, last_seen)
    ]
    rows_write(model=MomenceMember, rows=writes, unique_fields=["integration", "member_id"],
               update_fields=["client_id", "last_seen"])
    return len(writes)


def momence_members_checked(
    *, integration: Integration, members: dict[str, tuple[int, datetime | None]]
) -> int:
    """Note that these members' bought memberships were read now, as of their last seen
    (member id -> (client id, last seen when read)). One statement: each member's row is
    there already (members_due_for_memberships read it), so only the two columns change."""
    now = timezone.now()
    rows = [{"integration_id": integration.pk, "member_id": member_id, "client_id": client_id,
             "last_seen": last_seen, "memberships_last_seen": last_seen, "memberships_checked_at": now}
            for member_id, (client_id, last_seen) in members.items()]
    rows_write(model=MomenceMember, rows=rows, unique_fields=["integration", "member_id"],
               update_fields=["memberships_last_seen", "memberships_checked_at"])
    return len(rows)


@dataclass(frozen=True)
class PlannedCheckin:
    booking_id: int
    booking_ref: str
    door_access_id: int


@dataclass(frozen=True)
class PlannedTagPush:
    client_id: int
    tag_id: int
    action: str
    change_id: int
