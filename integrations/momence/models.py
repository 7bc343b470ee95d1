"""Momence's own tables: its OAuth tokens, what it calls tags and members, and the
outbound deliveries (check-ins, tag changes) with their attempts."""

from django.db import models

from accessctl.models import DoorAccess
from clients.models import Client, Tag
from integrations.models import Integration
from packages.models import Booking


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


class Delivery(models.Model):
    """One outbound change for Momence, with every attempt counted (Saleor's delivery log)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed (gave up)"

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class CheckinDelivery(Delivery):
    """The check-in of one session booking at Momence, made once, after a door access."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="+")
    booking_ref = models.CharField("Momence booking ID", max_length=32)
    door_access = models.ForeignKey(DoorAccess, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")

    class Meta:
        verbose_name = "Momence check-in"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["integration", "booking"], name="momence_checkin_once"),
        ]
        indexes = [models.Index(fields=["integration", "status"])]

    def __str__(self):
        return f"check-in of booking {self.booking_ref}: {self.get_status_display()}"


class TagPush(Delivery):
    """The latest tag change Gatehouse made for one client and one Momence tag, to send.

    One row per (client, tag): a newer change replaces an unsent older one, so Momence
    gets the client's latest state and never an add and a remove out of order.
    """

    class Action(models.TextChoices):
        ADD = "add", "Add"
        REMOVE = "remove", "Remove"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="+")
    action = models.CharField(max_length=6, choices=Action.choices)
    change_id = models.BigIntegerField(help_text="The client tag change this push carries.")

    class Meta:
        verbose_name = "Momence tag push"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["integration", "client", "tag"], name="momence_tag_push_unique"),
        ]
        indexes = [models.Index(fields=["integration", "status"])]

    def __str__(self):
        return f"{self.get_action_display()} {self.tag} for {self.client}: {self.get_status_display()}"
