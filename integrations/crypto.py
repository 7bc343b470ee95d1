"""Secrets at rest: MultiFernet over FIELD_ENCRYPTION_KEYS (newest key first)."""

import json
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver


class SecretDecryptError(Exception):
    """A stored secret cannot be read with the configured keys (never shows the token)."""


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    keys = [k.strip() for k in settings.FIELD_ENCRYPTION_KEYS if k.strip()]
    if not keys:
        raise SecretDecryptError("FIELD_ENCRYPTION_KEYS is empty.")
    return MultiFernet([Fernet(k.encode()) for k in keys])


@receiver(setting_changed)
def _reset_keys(*, setting, **kwargs):
    if setting == "FIELD_ENCRYPTION_KEYS":
        _fernet.cache_clear()


def secrets_encrypt(values: dict[str, str]) -> str:
    """Encrypt a dict of secrets into one token (with the newest key)."""
    return _fernet().encrypt(json.dumps(values, sort_keys=True).encode()).decode()


def secrets_decrypt(token: str) -> dict[str, str]:
    """Decrypt a token made by `secrets_encrypt`; raises SecretDecryptError if it can't."""
    if not token:
        return {}
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except (InvalidToken, ValueError):
        # `from None`: the token must not ride along in a traceback.
        raise SecretDecryptError(
            "A stored secret could not be decrypted: is FIELD_ENCRYPTION_KEYS missing the key "
            "it was written with?"
        ) from None


def secrets_rotate(token: str) -> str:
    """Re-encrypt a token under the newest key."""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken:
        raise SecretDecryptError("A stored secret could not be rotated with the configured keys.") from None
