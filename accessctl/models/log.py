"""The access log: every unlock a member asked for from the app, and how it ended."""

from django.db import models

from accessctl.models.doors import Door
from accessctl.models.rules import VisitType
from clients.models import Client


class UnlockAttempt(models.Model):
    """One unlock asked for by a member: the decision, what it cost, what the door said.

    (client, idempotency key) is unique, so a double submit is one attempt.
    """

    class Outcome(models.TextChoices):
        PENDING = "pending", "Opening"
        OPENED = "opened", "Opened"
        REFUSED = "refused", "Refused"
        FAILED = "failed", "Door did not open"

    class Method(models.TextChoices):
        TAG = "tag", "Tag"
        PAYMENT = "payment", "Paid visit"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="unlock_attempts")
    door = models.ForeignKey(Door, on_delete=models.PROTECT, related_name="unlock_attempts")
    idempotency_key = models.CharField(max_length=64)
    attempted_at = models.DateTimeField(db_index=True)
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    method = models.CharField(max_length=8, choices=Method.choices, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    credits = models.PositiveIntegerField(default=0, help_text="Credits the visit took.")
    refunded = models.BooleanField(default=False, help_text="The credits were given back.")
    visit_type = models.ForeignKey(
        VisitType, null=True, blank=True, on_delete=models.SET_NULL, related_name="unlock_attempts"
    )
    visit_type_name = models.CharField(max_length=100, blank=True)
    client_package = models.ForeignKey(
        "packages.ClientPackage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The package that paid.",
    )
    door_answer = models.CharField("door system's answer", max_length=300, blank=True)
    door_online = models.BooleanField(null=True, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    distance_m = models.FloatField("distance (m)", null=True, blank=True)

    class Meta:
        verbose_name = "access log entry"
        verbose_name_plural = "access log"
        ordering = ["-attempted_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["client", "idempotency_key"], name="unlock_once_per_key"),
        ]
        indexes = [models.Index(fields=["door", "-attempted_at"])]

    def __str__(self):
        return f"{self.client} at {self.door} {self.attempted_at:%Y-%m-%d %H:%M}: {self.get_outcome_display()}"

    @property
    def allowed(self) -> bool:
        return self.outcome != self.Outcome.REFUSED

    @property
    def credit_reference(self) -> str:
        """The credit ledger's reference of this unlock's payment (its idempotency key)."""
        return f"unlock:{self.idempotency_key}"
