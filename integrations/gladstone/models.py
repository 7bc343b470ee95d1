"""Gladstone's own records: member tokens already used.

Subscriptions waiting for a package are kept by the framework (integrations.pending).
"""

from django.db import models

from integrations.models import Integration


class UsedMemberToken(models.Model):
    """A member-id token's nonce, kept until the token would have expired anyway,
    so a token is accepted once."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="+")
    nonce = models.CharField(max_length=64)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["integration", "nonce"], name="gladstone_token_used_once"),
        ]

    def __str__(self):
        return f"token {self.nonce[:8]}… (until {self.expires_at:%H:%M:%S})"
