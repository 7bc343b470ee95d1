"""Doors, door accesses, Kisi places and groups, access rules and door-system users."""

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
    # What the door system last said about the lock (Kisi's doors sync reads GET /locks).
    lock_online = models.BooleanField("lock online", null=True, editable=False)
    lock_online_at = models.DateTimeField("lock state read at", null=True, editable=False)

    class Meta:
        ordering = ["location__name", "title"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(access_control="kisi") | ~Q(kisi_lock_id=""),
                name="door_kisi_needs_lock_id",
                violation_error_message="A door controlled by Kisi needs its Kisi lock ID.",
            ),
        ]
        # unlock_door: the admin's "Test unlock" and any staff-side unlock open a real door.
        permissions = [("import_door", "Can import doors"), ("export_door", "Can export doors"),
                       ("unlock_door", "Can unlock door")]

    def __str__(self):
        return self.title


class DoorAccess(models.Model):
    """One entry (or refused entry) of a client at a door, as a system reported it."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="door_accesses")
    door = models.ForeignKey(Door, on_delete=models.PROTECT, related_name="accesses")
    accessed_at = models.DateTimeField(db_index=True)
    granted = models.BooleanField(default=True)
    source = models.CharField(max_length=64, help_text="Which system reported it.")
    # A string reference, not an import: accessctl stays below integrations in the code;
    # empty for Gatehouse's own unlocks and once the integration is deleted (history stays).
    integration = models.ForeignKey(
        "integrations.Integration", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="door_accesses", help_text="The integration that reported it.",
    )
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


class KisiPlace(models.Model):
    """A Kisi place (a site in the door system), mapped to a club location."""

    kisi_id = models.CharField("Kisi place ID", max_length=32, unique=True)
    name = models.CharField(max_length=200)
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.SET_NULL, related_name="kisi_places",
        help_text="The club location this place is.",
    )
    time_zone = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class KisiGroup(models.Model):
    """A Kisi group: organisation-scoped (no place) or scoped to one place."""

    kisi_id = models.CharField("Kisi group ID", max_length=32, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    place = models.ForeignKey(
        KisiPlace, null=True, blank=True, on_delete=models.CASCADE, related_name="groups",
        help_text="Empty: the group is scoped to the organisation.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({'place: ' + str(self.place) if self.place_id else 'organisation'})"

    @property
    def is_organization_scoped(self) -> bool:
        return self.place_id is None


class AccessRule(models.Model):
    """Why clients belong in a door-system group: access is computed from these.

    A "package" rule puts every holder of an active client package of `packages` in
    the group for as long as the package is active. A "booking" rule gives holders of
    `packages` who booked a class at `location` the group from `minutes_before` the
    start to `minutes_after` the end. The integration that configured a rule owns it
    (`owner`), so removing one configuration never removes another's reasons.
    """

    class Reason(models.TextChoices):
        PACKAGE = "package", "Active package"
        BOOKING = "booking", "Booked class"

    group = models.ForeignKey(KisiGroup, on_delete=models.CASCADE, related_name="rules")
    reason = models.CharField(max_length=10, choices=Reason.choices)
    packages = models.ManyToManyField("packages.Package", related_name="access_rules", blank=True)
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.CASCADE, related_name="access_rules",
        help_text="Booking rules: bookings of classes at this location.",
    )
    minutes_before = models.PositiveIntegerField(default=60)
    minutes_after = models.PositiveIntegerField(default=0)
    owner = models.CharField(max_length=100, help_text="Who configured it, e.g. glofox-3:config-7.")
    is_active = models.BooleanField("active", default=True)

    class Meta:
        ordering = ["group", "reason"]

    def __str__(self):
        return f"{self.get_reason_display()} -> {self.group.name}"


class DoorSystemUser(models.Model):
    """A client's user in a door system (e.g. the Kisi user id), found or created once."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="door_system_users")
    system = models.CharField(max_length=64, help_text="The door integration's source key.")
    external_id = models.CharField(max_length=64)
    email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["system", "client"], name="door_user_one_per_client"),
            models.UniqueConstraint(fields=["system", "external_id"], name="door_user_unique_id"),
        ]

    def __str__(self):
        return f"{self.client} in {self.system}: {self.external_id}"

