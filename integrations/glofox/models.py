"""Glofox configurations (a branch mapped to a Kisi group and place); check-ins to Glofox are
kept in the outbox (integrations.models.Delivery)."""

from django.core.validators import MaxValueValidator
from django.db import models

from accessctl.models import KisiGroup, KisiPlace
from integrations.models import Integration

# The seed: access starts one hour before the booked class (and ends with it).
BOOKING_MINUTES_BEFORE, BOOKING_MINUTES_AFTER = 60, 0
WINDOW_LIMIT = 24 * 60  # a window of more than a day is a typing error


class GlofoxConfiguration(models.Model):
    """One Glofox location (branch) of the integration, mapped to a Kisi group and place.

    Members of the branch whose membership of a selected type is active are put in
    `kisi_group`; with bookings enabled, credit-pack and pay-as-you-go members are put
    in it around their booked classes, from `booking_minutes_before` the start to
    `booking_minutes_after` the end. The place's club location is where members'
    unlocks are checked in to the branch. The configuration is the source of truth for
    the access rules it implies (integrations.glofox.services.configuration_rules_apply).
    """

    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, related_name="glofox_configurations"
    )
    branch_id = models.CharField(
        "Glofox Location ID", max_length=64,
        help_text="The branch id Glofox Support whitelisted for the Kisi integration.",
    )
    kisi_group = models.ForeignKey(
        KisiGroup, on_delete=models.PROTECT, related_name="+", verbose_name="Kisi group",
        help_text="The organisation-scoped group active members are imported into.",
    )
    kisi_place = models.ForeignKey(
        KisiPlace, on_delete=models.PROTECT, related_name="+", verbose_name="Kisi place",
        help_text="The place mapped to this Glofox location for check-ins.",
    )
    membership_types = models.JSONField(
        default=list, blank=True, help_text="Glofox membership ids whose active holders get access.",
    )
    bookings_enabled = models.BooleanField(
        default=False, help_text="Give credit-pack and pay-as-you-go members access around their bookings.",
    )
    booking_minutes_before = models.PositiveIntegerField(
        "access from (minutes before a booked class)", default=BOOKING_MINUTES_BEFORE,
        validators=[MaxValueValidator(WINDOW_LIMIT)],
        help_text=f"Empty: {BOOKING_MINUTES_BEFORE}. Bookers open the doors from this long before the class starts.",
    )
    booking_minutes_after = models.PositiveIntegerField(
        "access until (minutes after a booked class)", default=BOOKING_MINUTES_AFTER,
        validators=[MaxValueValidator(WINDOW_LIMIT)],
        help_text=f"Empty: {BOOKING_MINUTES_AFTER}. Bookers open the doors until this long after the class ends.",
    )
    time_zone = models.CharField(
        max_length=64, blank=True,
        help_text="The branch's time zone as Glofox reports it (its booking times are local).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["branch_id"]
        constraints = [
            models.UniqueConstraint(fields=["integration", "branch_id"], name="glofox_config_branch_once"),
        ]

    def __str__(self):
        return f"Glofox location {self.branch_id}"

    @property
    def owner(self) -> str:
        """The AccessRule owner key of this configuration."""
        # integration.source without a query (the integration may be going, in a cascade).
        return f"glofox-{self.integration_id}:config-{self.pk}"

    @property
    def location_id(self) -> int | None:
        return self.kisi_place.location_id

    @property
    def zone_name(self) -> str:
        """The branch's time zone, else the club location's (booking times are branch-local)."""
        if self.time_zone:
            return self.time_zone
        return self.kisi_place.location.time_zone if self.kisi_place.location_id else "UTC"
