"""Secrets at rest: MultiFernet over FIELD_ENCRYPTION_KEYS (newest key first).

An integration's secrets are stored one token per field (`secret_fields_*`), so a secret
written with a key that is gone is a state of that one field (`SecretUnreadable` when it
is needed), not a crash of everything that touches the integration.
"""

import json
from dataclasses import dataclass, field
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from integrations.errors import PermanentError

SECRETS_UNREADABLE = (
    "a stored secret cannot be read with the current keys; re-enter it in Settings > Integrations"
)
# The key under which a store written before secrets were kept one by one holds them all.
ALL_FIELDS = "*"


class SecretDecryptError(Exception):
    """A stored secret cannot be read with the configured keys (never shows the token)."""


class SecretUnreadable(SecretDecryptError, PermanentError):
    """An integration needs a secret that cannot be read with the current keys.

    A PermanentError, so every place that reports a vendor failure (syncs, Test
    connection, logins) reports this one too, with a fixed message saying what to do.
    """

    def __init__(self, message: str = SECRETS_UNREADABLE):
        super().__init__(message)


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


@dataclass(frozen=True)
class StoredSecrets:
    """An integration's stored secrets: the readable values, and the tokens of those that
    cannot be read with the current keys (kept as they are until entered again)."""

    values: dict[str, str] = field(default_factory=dict)
    unreadable: dict[str, str] = field(default_factory=dict)

    @property
    def readable(self) -> bool:
        """Whether every stored secret can be read with the current keys."""
        return not self.unreadable

    def is_unreadable(self, name: str) -> bool:
        return name in self.unreadable or ALL_FIELDS in self.unreadable


def _field_tokens(stored: str) -> dict[str, str]:
    if not stored.startswith("{"):
        return {ALL_FIELDS: stored}  # one token for the whole dict (the earlier format)
    try:
        tokens = json.loads(stored)
    except ValueError:
        return {ALL_FIELDS: stored}
    return tokens if isinstance(tokens, dict) else {ALL_FIELDS: stored}


def secret_fields_read(stored: str) -> StoredSecrets:
    """Read a store made by `secret_fields_write` (or the earlier one-token format).

    Never raises for a token the current keys cannot read: it is listed as unreadable.
    """
    if not stored:
        return StoredSecrets()
    values: dict[str, str] = {}
    unreadable: dict[str, str] = {}
    tokens = _field_tokens(stored)
    # The whole-dict token first, so a field stored on its own since wins over it.
    for name in sorted(tokens, key=lambda name: name != ALL_FIELDS):
        token = tokens[name]
        try:
            plain = _fernet().decrypt(str(token).encode()).decode()
            if name == ALL_FIELDS:
                values.update(json.loads(plain))
            else:
                values[name] = plain
        except (InvalidToken, SecretDecryptError, ValueError):
            unreadable[name] = token
    return StoredSecrets(values, unreadable)


def secret_fields_write(values: dict[str, str], *, kept: dict[str, str] | None = None) -> str:
    """One token per non-empty value (newest key), plus `kept` tokens as they are."""
    tokens = {**(kept or {}), **{name: _fernet().encrypt(value.encode()).decode()
                                 for name, value in values.items() if value}}
    return json.dumps(tokens, sort_keys=True) if tokens else ""


def secret_fields_rotate(stored: str) -> str:
    """Re-encrypt every field of a store under the newest key (the earlier format too)."""
    read = secret_fields_read(stored)
    if not read.readable:
        raise SecretDecryptError("A stored secret could not be rotated with the configured keys.")
    return secret_fields_write(read.values)
