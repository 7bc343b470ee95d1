"""Gladstone's own records: member tokens already used, subscriptions waiting for a package."""

from django.db import models

from clients.models import Client
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


class UnmatchedSubscription(models.Model):
    """A subscription the member sync received whose SubTypeID has no package.

    The member sync replaces a member's rows each time it reads that member; the daily
    audit reports the rows whose SubTypeID is a valid one (of the configured groups).
    """

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    member_id = models.CharField("MemberID", max_length=64)
    subscription_ref = models.CharField("SubscriptionRef", max_length=64)
    sub_type_id = models.CharField("SubTypeID", max_length=64)
    start = models.DateTimeField()
    seen_at = models.DateTimeField()

    class Meta:
        verbose_name = "subscription without a package"
        verbose_name_plural = "subscriptions without a package"
        ordering = ["sub_type_id", "member_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "subscription_ref"], name="gladstone_unmatched_once_per_ref"
            ),
        ]
        indexes = [
            models.Index(fields=["integration", "member_id"]),
            models.Index(fields=["integration", "sub_type_id"]),
        ]

    def __str__(self):
        return f"{self.sub_type_id} for member {self.member_id} ({self.subscription_ref})"
