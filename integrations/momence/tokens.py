"""Momence OAuth tokens kept encrypted in the database, so every worker and every run
shares them instead of logging in again (Momence access tokens live a few hours).

Encrypted with integrations.crypto (FIELD_ENCRYPTION_KEYS). Tokens the keys can no
longer read, or that belong to other credentials than the settings now hold, are
simply ignored: the client logs in again with the password grant.
"""

import hashlib

from integrations.crypto import SecretDecryptError, secrets_decrypt
from integrations.models import Integration
from integrations.momence.client import Tokens
from integrations.momence.models import MomenceToken
from integrations.momence.services import momence_token_delete, momence_token_save


def account_fingerprint(*, base_url: str, client_id: str, username: str) -> str:
    """Which credentials tokens belong to, without storing them."""
    return hashlib.sha256(f"{base_url}\n{client_id}\n{username}".encode()).hexdigest()[:32]


class DatabaseTokenStore:
    """A client's TokenStore backed by MomenceToken."""

    def __init__(self, *, integration: Integration, account: str):
        self.integration, self.account = integration, account

    def load(self) -> Tokens | None:
        row = MomenceToken.objects.filter(integration=self.integration, account=self.account).first()
        if row is None:
            return None
        try:
            values = secrets_decrypt(row.token)
        except SecretDecryptError:
            return None
        return Tokens(access_token=values["access_token"], refresh_token=values["refresh_token"],
                      access_expires_at=row.access_expires_at, refresh_expires_at=row.refresh_expires_at)

    def save(self, tokens: Tokens | None) -> None:
        if tokens is None:
            momence_token_delete(integration=self.integration)
            return
        momence_token_save(integration=self.integration, account=self.account,
                           access_token=tokens.access_token, refresh_token=tokens.refresh_token,
                           access_expires_at=tokens.access_expires_at,
                           refresh_expires_at=tokens.refresh_expires_at)
