"""Doors and who went through them."""

from django.db import models
from django.db.models import Q

from clients.models import Client, Location


class Door(models.Model):
    """A door of a location (Settings > Doors). Its door id is unique in the club."""

    class AccessControl(models.TextChoices):
        DISABLED = "disabled", "Disabled"
        KISI = "kisi", "Kisi"

    title = models.CharField(max_length=200)
    door_id = models.CharField(
        "door ID", max_length=64, unique=True,
        help_text="Unique in the club; for Gladstone, the SiteID of the location.",
    )
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="doors")
    access_control = models.CharField(
        max_length=16, choices=AccessControl.choices, default=AccessControl.DISABLED
    )
    kisi_lock_id = models.CharField("Kisi lock ID", max_length=32, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    is_active = models.BooleanField("active", default=True)

    class Meta:
        ordering = ["location__name", "title"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(access_control="kisi") | ~Q(kisi_lock_id=""),
                name="door_kisi_needs_lock_id",
                violation_error_message="A door controlled by Kisi needs its Kisi lock ID.",
            ),
        ]
        permissions = [("import_door", "Can import doors")]

    def __str__(self):
        return self.title


class DoorAccess(models.Model):
    """One entry (or refused entry) of a client at a door, as a system reported it."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="door_accesses")
    door = models.ForeignKey(Door, on_delete=models.PROTECT, related_name="accesses")
    accessed_at = models.DateTimeField(db_index=True)
    granted = models.BooleanField(default=True)
    source = models.CharField(max_length=64, help_text="Which system reported it.")
    source_ref = models.CharField(
        "source reference", max_length=100, help_text="The system's id for this entry."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "door accesses"
        ordering = ["-accessed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "source_ref"], name="door_access_unique_per_source"
            ),
        ]

    def __str__(self):
        return f"{self.client} at {self.door} {self.accessed_at:%Y-%m-%d %H:%M}"
