"""Writes to Gladstone's own tables."""

from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from integrations.gladstone.models import UsedMemberToken
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
