"""The member app's tokens: issue, authenticate, refresh with rotation, revoke.

Tokens are random strings; only their SHA-256 digest is stored, and a presented token
is found by its digest, so no stored secret is ever compared byte by byte. Access
tokens live minutes, refresh tokens weeks; each login starts a family, refreshing
rotates within it, and a refresh token presented after it was rotated (a copy in an
attacker's hands, or the member's after the attacker used it) revokes the family.
"""

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from clients.models import Client, MemberToken

ACCESS_PREFIX = "gha_"
REFRESH_PREFIX = "ghr_"


class TokenRefused(Exception):
    """A token that is unknown, expired, revoked or of the wrong kind."""


@dataclass(frozen=True)
class TokenPair:
    """What a login or a refresh hands the app."""

    access: str
    access_expires: datetime
    refresh: str
    refresh_expires: datetime
    client: Client

    def as_json(self) -> dict:
        return {
            "token_type": "Bearer", "access": self.access, "access_expires": self.access_expires,
            "refresh": self.refresh, "refresh_expires": self.refresh_expires,
        }


def token_digest(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def _new(client: Client, kind: str, family: uuid.UUID, lifetime: timedelta, now) -> tuple[str, MemberToken]:
    prefix = ACCESS_PREFIX if kind == MemberToken.Kind.ACCESS else REFRESH_PREFIX
    token = prefix + secrets.token_urlsafe(32)
    row = MemberToken(client=client, kind=kind, digest=token_digest(token), family=family,
                      created_at=now, expires_at=now + lifetime)
    return token, row


def member_tokens_issue(*, client: Client, family: uuid.UUID | None = None) -> TokenPair:
    """Issue an access and a refresh token for `client` (a new family unless given)."""
    now = timezone.now()
    family = family or uuid.uuid4()
    access, access_row = _new(client, MemberToken.Kind.ACCESS, family,
                              timedelta(minutes=settings.MEMBER_ACCESS_TOKEN_MINUTES), now)
    refresh, refresh_row = _new(client, MemberToken.Kind.REFRESH, family,
                                timedelta(days=settings.MEMBER_REFRESH_TOKEN_DAYS), now)
    MemberToken.objects.bulk_create([access_row, refresh_row])
    return TokenPair(access, access_row.expires_at, refresh, refresh_row.expires_at, client)


def _live(token: str, kind: str) -> MemberToken | None:
    """The stored token if it is of `kind`, unexpired and its client is live."""
    if not isinstance(token, str) or not token.startswith(
        ACCESS_PREFIX if kind == MemberToken.Kind.ACCESS else REFRESH_PREFIX
    ):
        return None
    row = (MemberToken.objects.select_related("client")
           .filter(digest=token_digest(token), kind=kind).first())
    if row is None or row.expires_at <= timezone.now() or row.client.deleted_at is not None:
        return None
    return row


def member_token_authenticate(*, token: str) -> MemberToken | None:
    """The live, unrevoked access token `token` (with its client), or None."""
    row = _live(token, MemberToken.Kind.ACCESS)
    return row if row is not None and row.revoked_at is None else None


def member_token_refresh(*, refresh_token: str) -> TokenPair:
    """Rotate a refresh token: revoke it and issue a new pair in the same family.

    A refresh token that was already rotated or revoked revokes its whole family (the
    conditional UPDATE also settles two refreshes racing with one token: one wins).
    Raises TokenRefused.
    """
    row = _live(refresh_token, MemberToken.Kind.REFRESH)
    if row is None:
        raise TokenRefused("unknown or expired refresh token")
    with transaction.atomic():
        claimed = MemberToken.objects.filter(pk=row.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now())
        if claimed:
            return member_tokens_issue(client=row.client, family=row.family)
    member_tokens_revoke_family(family=row.family)  # outside the block: the raise must not undo it
    raise TokenRefused("refresh token reused: family revoked")


def member_tokens_revoke_family(*, family: uuid.UUID) -> int:
    """Revoke every token of one app session (logout). Returns how many were live."""
    live = MemberToken.objects.filter(family=family, revoked_at__isnull=True)
    return live.update(revoked_at=timezone.now())


def member_tokens_revoke_all(*, client: Client) -> int:
    """Revoke every token of `client` on every device (staff action). Returns how many."""
    live = MemberToken.objects.filter(client=client, revoked_at__isnull=True)
    return live.update(revoked_at=timezone.now())



def member_tokens_purge(*, now=None) -> int:
    """Delete tokens a day past their expiry: an expired token is refused whether or not
    its row exists, and a family's reuse detection only needs its unexpired tokens."""
    deleted, _ = MemberToken.objects.filter(expires_at__lt=(now or timezone.now()) - timedelta(days=1)).delete()
    return deleted
