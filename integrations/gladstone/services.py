"""Writes to Gladstone's own tables."""

from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from integrations.gladstone.models import UnmatchedSubscription, UsedMemberToken
from integrations.models import Integration


def member_token_use(*, integration: Integration, nonce: str, expires_at: float) -> bool:
    """Remember a token's nonce; False when it was used before (a replay).

    Nonces of tokens that have expired anyway are forgotten here.
    """
    UsedMemberToken.objects.filter(expires_at__lt=timezone.now()).delete()
    try:
        with transaction.atomic():
            UsedMemberToken.objects.create(
                integration=integration,
                nonce=nonce,
                expires_at=datetime.fromtimestamp(expires_at, UTC),
            )
    except IntegrityError:
        return False
    return True


def unmatched_subscriptions_replace(
    *, integration: Integration, member_ids: list[str], rows: list[UnmatchedSubscription]
) -> int:
    """Replace what the member sync knows of these members' subscriptions without a package.

    Two statements whatever the page size. Returns how many rows are kept now.
    """
    UnmatchedSubscription.objects.filter(integration=integration, member_id__in=member_ids).delete()
    if rows:
        UnmatchedSubscription.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["integration", "subscription_ref"],
            update_fields=["client", "member_id", "sub_type_id", "start", "seen_at"],
            batch_size=1000,
        )
    return len(rows)
