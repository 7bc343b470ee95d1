"""Momence's own tables: its OAuth tokens and what it calls tags and members (what is sent
to Momence is kept in the outbox, integrations.models.Delivery)."""

from django.db import models

from clients.models import Client, Tag
from integrations.models import Integration


class MomenceToken(models.Model):
    """The integration's current OAuth tokens, encrypted (integrations.crypto), shared by
    every worker so each run does not log in again. `account` fingerprints the client id
    and staff login the tokens belong to: changing them in the settings drops the tokens."""

    integration = models.OneToOneField(Integration, on_delete=models.CASCADE, related_name="+")
    account = models.CharField(max_length=64)
    token = models.TextField(help_text="Both tokens, encrypted together.")
    access_expires_at = models.DateTimeField()
    refresh_expires_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Momence tokens of {self.integration}"


class MomenceTag(models.Model):
    """A Momence customer tag and the Gatehouse tag of the same name (tags Momence knows)."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="+")
    momence_id = models.CharField("Momence tag ID", max_length=32)
    name = models.CharField(max_length=100)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="+")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["integration", "momence_id"], name="momence_tag_unique"),
        ]

    def __str__(self):
        return f"{self.name} ({self.momence_id})"


class MomenceMember(models.Model):
    """When Momence last saw a member, and when their bought memberships were last read."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="+")
    member_id = models.CharField("Momence member ID", max_length=32)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    last_seen = models.DateTimeField(null=True, blank=True)
    memberships_last_seen = models.DateTimeField(
        null=True, blank=True, help_text="`last_seen` when the bought memberships were last read."
    )
    memberships_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["integration", "member_id"], name="momence_member_unique"),
        ]
        indexes = [models.Index(fields=["integration", "memberships_checked_at"])]

    def __str__(self):
        return f"Momence member {self.member_id}"
