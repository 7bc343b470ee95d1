"""The member app's tokens: issue, authenticate, refresh with rotation, revoke.

Tokens are random strings; only their SHA-256 digest is stored, and a presented token
is found by its digest, so no stored secret is ever compared byte by byte. Access
tokens live minutes, refresh tokens weeks; each login starts a family, refreshing
rotates within it, and a refresh token presented after it was rotated (a copy in an
attacker's hands, or the member's after the attacker used it) revokes the family.

Except within a short grace (settings.MEMBER_REFRESH_GRACE_SECONDS): an app that fires
two refreshes at once, or retries one whose answer it lost, gets the same new pair
again instead of being logged out. For that the rotated row keeps its successor pair,
encrypted (Fernet) under a key derived (HKDF-SHA256) from the rotated token's raw value,
which is never stored: only someone presenting that very token can read it, the
database alone cannot. Successors are wiped once their grace is over (on the family's
next refresh, its revocation, or the daily purge).
"""

import base64
import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
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


def _sealer(token: str) -> Fernet:
    """The key a rotated refresh token's successor is sealed with: derived from the raw token."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"gatehouse refresh successor").derive(
        token.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def _grace() -> timedelta:
    return timedelta(seconds=settings.MEMBER_REFRESH_GRACE_SECONDS)


def _successor(row: MemberToken, refresh_token: str, now: datetime) -> TokenPair | None:
    """The pair `refresh_token` was rotated into, if that was within the grace and it still works."""
    rotated = MemberToken.objects.filter(pk=row.pk).values("revoked_at", "successor").first()
    if not rotated or not rotated["successor"] or rotated["revoked_at"] is None or (
            rotated["revoked_at"] < now - _grace()):
        return None
    try:
        sealed = json.loads(_sealer(refresh_token).decrypt(rotated["successor"].encode()))
    except (InvalidToken, ValueError):
        return None
    rows = {r.kind: r for r in MemberToken.objects.filter(
        family=row.family, digest__in=[token_digest(sealed["access"]), token_digest(sealed["refresh"])])}
    access, refresh = rows.get(MemberToken.Kind.ACCESS), rows.get(MemberToken.Kind.REFRESH)
    if access is None or refresh is None or access.revoked_at is not None or access.expires_at <= now:
        return None  # the login was ended meanwhile (logout, staff, a reuse)
    return TokenPair(sealed["access"], access.expires_at, sealed["refresh"], refresh.expires_at, row.client)


def member_token_refresh(*, refresh_token: str) -> TokenPair:
    """Rotate a refresh token: revoke it and issue a new pair in the same family.

    The same token again within the grace period gets the same new pair (two refreshes
    racing: the conditional UPDATE lets one rotate, the other reads what it sealed). A
    token that was already rotated before that, or revoked, revokes its whole family.
    Raises TokenRefused.
    """
    row = _live(refresh_token, MemberToken.Kind.REFRESH)
    if row is None:
        raise TokenRefused("unknown or expired refresh token")
    now = timezone.now()
    access, access_row = _new(row.client, MemberToken.Kind.ACCESS, row.family,
                              timedelta(minutes=settings.MEMBER_ACCESS_TOKEN_MINUTES), now)
    refresh, refresh_row = _new(row.client, MemberToken.Kind.REFRESH, row.family,
                                timedelta(days=settings.MEMBER_REFRESH_TOKEN_DAYS), now)
    sealed = _sealer(refresh_token).encrypt(json.dumps({"access": access, "refresh": refresh}).encode()).decode()
    with transaction.atomic():
        claimed = MemberToken.objects.filter(pk=row.pk, revoked_at__isnull=True).update(
            revoked_at=now, successor=sealed)
        if claimed:
            MemberToken.objects.bulk_create([access_row, refresh_row])
            # Earlier rotations of this login are past their grace: their successors can go.
            MemberToken.objects.filter(family=row.family, revoked_at__lt=now - _grace()).exclude(
                successor="").update(successor="")
            return TokenPair(access, access_row.expires_at, refresh, refresh_row.expires_at, row.client)
    if (again := _successor(row, refresh_token, now)) is not None:
        return again
    member_tokens_revoke_family(family=row.family)  # outside the block: the raise must not undo it
    raise TokenRefused("refresh token reused: family revoked")


def member_tokens_revoke_family(*, family: uuid.UUID) -> int:
    """Revoke every token of one app session (logout). Returns how many were live."""
    MemberToken.objects.filter(family=family).exclude(successor="").update(successor="")
    live = MemberToken.objects.filter(family=family, revoked_at__isnull=True)
    return live.update(revoked_at=timezone.now())


def member_tokens_revoke_all(*, client: Client) -> int:
    """Revoke every token of `client` on every device (staff action). Returns how many."""
    MemberToken.objects.filter(client=client).exclude(successor="").update(successor="")
    live = MemberToken.objects.filter(client=client, revoked_at__isnull=True)
    return live.update(revoked_at=timezone.now())


def member_login_client(*, family: uuid.UUID) -> Client | None:
    """The live client whose login `family` is, while that login lasts: until its refresh token
    expires or it is revoked (log out, log out everywhere, a staff revocation, a reuse).

    The web portal keeps a login's family in its session, so ending a member's app tokens
    ends their portal sessions too, through the same rows.
    """
    row = (MemberToken.objects.select_related("client")
           .filter(family=family, kind=MemberToken.Kind.REFRESH, revoked_at__isnull=True,
                   expires_at__gt=timezone.now()).first())
    return row.client if row is not None and row.client.deleted_at is None else None


def member_tokens_purge(*, now=None) -> int:
    """Delete tokens a day past their expiry: an expired token is refused whether or not
    its row exists, and a family's reuse detection only needs its unexpired tokens. Wipe
    the successors past their grace. Returns how many tokens were deleted."""
    now = now or timezone.now()
    MemberToken.objects.filter(revoked_at__lt=now - _grace()).exclude(successor="").update(successor="")
    deleted, _ = MemberToken.objects.filter(expires_at__lt=now - timedelta(days=1)).delete()
    return deleted
