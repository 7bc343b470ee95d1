"""Member-id tokens: how a partner app proves which Gladstone member opened our app.

A token is AES-256-GCM over a small JSON payload, with a 32-byte key shared with that
app. Authenticated encryption: a token changed in any bit, or made with another key,
does not decrypt. The format (docs/member-token.md describes it for app developers):

    token     = base64url_nopad( 0x01 || iv (12 random bytes) || ciphertext || tag (16 bytes) )
    plaintext = UTF-8 JSON {"member_id": "123456", "issued_at": <Unix seconds>, "nonce": "<16+ chars>"}

The nonce makes each token single-use (the connector remembers used ones until they
expire); issued_at makes it short-lived.
"""

import base64
import binascii
import json
import os
import secrets
import time
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = 1
IV_BYTES = 12
MAX_AGE_SECONDS = 5 * 60  # a token is a hand-off between two apps on one phone: minutes at most
CLOCK_SKEW_SECONDS = 60  # phones' clocks drift; a token "from the future" by less is accepted
MAX_TOKEN_CHARS = 2048


class TokenRefused(Exception):
    """The token is not a fresh, genuine token (the reason is for the log only)."""


@dataclass(frozen=True)
class MemberToken:
    member_id: str
    issued_at: int
    nonce: str


def _b64decode(value: str) -> bytes:
    value = value.strip()
    return base64.urlsafe_b64decode(value.replace("+", "-").replace("/", "_") + "=" * (-len(value) % 4))


def key_bytes(key: str) -> bytes:
    """The 32-byte key from its base64 text (standard or URL-safe, padded or not)."""
    try:
        raw = _b64decode(key)
    except (binascii.Error, ValueError):
        raise ValueError("The key is not base64 text.") from None
    if len(raw) != 32:
        raise ValueError(f"The key must be 32 bytes (AES-256); this one is {len(raw)}.")
    return raw


def member_token_key_generate() -> str:
    """A new random shared key, as the base64url text both sides configure."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def member_token_create(
    *, key: str, member_id: int | str, issued_at: int | None = None, nonce: str | None = None
) -> str:
    """Make a token for `member_id`, as a partner app would (see docs/member-token.md)."""
    payload = {
        "member_id": str(member_id),
        "issued_at": int(time.time()) if issued_at is None else int(issued_at),
        "nonce": nonce or secrets.token_hex(16),
    }
    iv = os.urandom(IV_BYTES)
    sealed = AESGCM(key_bytes(key)).encrypt(iv, json.dumps(payload).encode(), None)
    return base64.urlsafe_b64encode(bytes([VERSION]) + iv + sealed).decode().rstrip("=")


def member_token_read(*, key: str, token: str, now: float | None = None) -> MemberToken:
    """Decrypt and check a token; raise TokenRefused when it is forged, stale or malformed.

    Whether it was used before is the caller's check (it needs the database).
    """
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise TokenRefused("empty or oversized token")
    try:
        raw = _b64decode(token)
    except (binascii.Error, ValueError):
        raise TokenRefused("not base64url") from None
    if len(raw) < 1 + IV_BYTES + 16 or raw[0] != VERSION:
        raise TokenRefused("unknown token version or too short")
    try:
        plain = AESGCM(key_bytes(key)).decrypt(raw[1 : 1 + IV_BYTES], raw[1 + IV_BYTES :], None)
    except InvalidTag:
        raise TokenRefused("tampered, or made with another key") from None
    try:
        payload = json.loads(plain)
        token_read = MemberToken(
            str(int(payload["member_id"])), int(payload["issued_at"]), str(payload["nonce"])
        )
    except (ValueError, TypeError, KeyError):
        raise TokenRefused("the payload lacks member_id, issued_at or nonce") from None
    if not 16 <= len(token_read.nonce) <= 64:
        raise TokenRefused("the nonce must be 16 to 64 characters")
    now = time.time() if now is None else now
    if token_read.issued_at > now + CLOCK_SKEW_SECONDS:
        raise TokenRefused("issued in the future")
    if now - token_read.issued_at > MAX_AGE_SECONDS:
        raise TokenRefused("expired")
    return token_read


def member_token_expiry(token: MemberToken) -> float:
    """Until when its nonce must be remembered (after that the token is refused as expired)."""
    return token.issued_at + MAX_AGE_SECONDS + CLOCK_SKEW_SECONDS
