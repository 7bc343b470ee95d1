"""Door rules, edited on each door: the tags that open it, paid visits and the geofence."""

from datetime import datetime, time

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from accessctl.models.doors import Door
from clients.models import Tag

METRES_PER_FOOT = 0.3048
MIDNIGHT = time(0, 0)
DAY_FIELDS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
DAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


class DoorRules(models.Model):
    """Who may open a door from the member app, and from how far away."""

    class Unit(models.TextChoices):
        FEET = "ft", "feet"
        METRES = "m", "metres"

    class Centre(models.TextChoices):
        LOCATION = "location", "The location's coordinates"
        DOOR = "door", "The door's own coordinates"

    door = models.OneToOneField(Door, on_delete=models.CASCADE, related_name="rules")
    tags = models.ManyToManyField(
        Tag, blank=True, related_name="door_rules",
        help_text="Members with any of these tags (their own, or given by an active package) "
                  "open the door at any time.",
    )
    paid_access = models.BooleanField(
        default=False,
        help_text="Members without a tag may pay a visit (see Visit types below) with credits "
                  "or an eligible subscription.",
    )
    geofence = models.BooleanField(
        "geofencing", default=False, help_text="Members must be close to the door to open it."
    )
    geofence_radius = models.PositiveIntegerField(
        "radius", null=True, blank=True, validators=[MinValueValidator(1)],
        help_text="We recommend 300-1000 feet (about 90-300 metres): phone locations are "
                  "sometimes inaccurate.",
    )
    geofence_unit = models.CharField("unit", max_length=2, choices=Unit.choices, default=Unit.FEET)
    geofence_centre = models.CharField(
        "measured from", max_length=8, choices=Centre.choices, default=Centre.LOCATION
    )

    class Meta:
        verbose_name = verbose_name_plural = "door rules"
        constraints = [
            models.CheckConstraint(
                condition=Q(geofence=False) | Q(geofence_radius__gt=0),
                name="door_rules_geofence_needs_radius",
                violation_error_message="Geofencing needs a radius above zero.",
            ),
        ]

    def __str__(self):
        return f"Rules of {self.door}"

    @property
    def radius_m(self) -> float | None:
        if not self.geofence_radius:
            return None
        factor = METRES_PER_FOOT if self.geofence_unit == self.Unit.FEET else 1.0
        return self.geofence_radius * factor

    def centre(self) -> tuple[float, float] | None:
        """The geofence's centre (latitude, longitude), None when it has no coordinates."""
        place = self.door if self.geofence_centre == self.Centre.DOOR else self.door.location
        if place.latitude is None or place.longitude is None:
            return None
        return float(place.latitude), float(place.longitude)

    def clean(self):
        if not self.geofence:
            return
        if not self.geofence_radius:
            raise ValidationError({"geofence_radius": "Geofencing needs a radius above zero."})
        try:
            door = self.door
        except Door.DoesNotExist:  # not attached yet: the door form reports its own errors
            return
        if door.location_id and self.centre() is None:
            where = "this door" if self.geofence_centre == self.Centre.DOOR else f"the location {door.location}"
            raise ValidationError({"geofence_centre": f"Geofencing needs coordinates: set the "
                                                      f"latitude and longitude of {where}."})


class VisitType(models.Model):
    """A paid visit through a door: its price in credits and the packages that may pay it."""

    door = models.ForeignKey(Door, on_delete=models.CASCADE, related_name="visit_types")
    name = models.CharField(max_length=100)
    price = models.PositiveIntegerField(
        "price in credits", default=1,
        help_text="Credits taken from a credit pack or a subscription with a combined limit; "
                  "unlimited subscriptions pay nothing.",
    )
    packages = models.ManyToManyField(
        "packages.Package", related_name="visit_types",
        help_text="Credit packs, unlimited subscriptions and subscriptions with a combined usage "
                  "limit can pay; other kinds never do.",
    )

    class Meta:
        ordering = ["door_id", "price", "name"]

    def __str__(self):
        return f"{self.name} ({self.price} credit{'' if self.price == 1 else 's'})"

    def is_available(self, local: datetime) -> bool:
        """Whether the visit can be paid at `local` (in the location's time zone)."""
        return windows_cover(list(self.availabilities.all()), local)

    def availability_summary(self) -> str:
        return windows_summary(list(self.availabilities.all()))


def windows_cover(windows: list["VisitAvailability"], local: datetime) -> bool:
    """Whether a visit type with these availabilities can be paid at `local`; with none, at any time."""
    return not windows or any(w.covers(local) for w in windows)


def windows_summary(windows: list["VisitAvailability"]) -> str:
    """A visit type's hours as members and staff read them."""
    return "; ".join(str(w) for w in windows) if windows else "any time"


class VisitAvailability(models.Model):
    """Days of the week and a time range (location's time zone) a visit type can be paid."""

    visit_type = models.ForeignKey(VisitType, on_delete=models.CASCADE, related_name="availabilities")
    monday = models.BooleanField("Mon", default=True)
    tuesday = models.BooleanField("Tue", default=True)
    wednesday = models.BooleanField("Wed", default=True)
    thursday = models.BooleanField("Thu", default=True)
    friday = models.BooleanField("Fri", default=True)
    saturday = models.BooleanField("Sat", default=True)
    sunday = models.BooleanField("Sun", default=True)
    start_time = models.TimeField("from", default=MIDNIGHT)
    end_time = models.TimeField(
        "until", default=MIDNIGHT,
        help_text="Not included; 00:00 means midnight at the end of the day. For a range past "
                  "midnight add two rows.",
    )

    class Meta:
        verbose_name_plural = "availabilities"
        ordering = ["visit_type_id", "start_time"]

    def __str__(self):
        return f"{self.days_label()} {self.start_time:%H:%M}-{self.end_time:%H:%M}"

    def days(self) -> list[int]:
        """The weekdays (Monday 0) this availability is on."""
        return [i for i, name in enumerate(DAY_FIELDS) if getattr(self, name)]

    def days_label(self) -> str:
        days = self.days()
        if len(days) == 7:
            return "Every day"
        if len(days) > 2 and days == list(range(days[0], days[-1] + 1)):
            return f"{DAY_NAMES[days[0]]}-{DAY_NAMES[days[-1]]}"
        return ", ".join(DAY_NAMES[d] for d in days)

    def covers(self, local: datetime) -> bool:
        """Whether the local wall-clock time `local` lies in this availability."""
        if local.weekday() not in self.days():
            return False
        moment = local.time().replace(tzinfo=None)
        return self.start_time <= moment and (self.end_time == MIDNIGHT or moment < self.end_time)

    def clean(self):
        if not self.days():
            raise ValidationError("Tick at least one day of the week.")
        if self.end_time != MIDNIGHT and self.end_time <= self.start_time:
            raise ValidationError({"end_time": "The end must be after the start (00:00 for midnight)."})
