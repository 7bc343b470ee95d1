"""Club records about people and places: locations, tiers, clients, identities, tags."""

import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone


def validate_time_zone(value: str) -> None:
    """Refuse anything that is not an IANA time zone name."""
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"'{value}' is not an IANA time zone (e.g. Europe/London).")


class Tag(models.Model):
    """A label on clients and packages; doors open for the tags they list."""

    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Location(models.Model):
    """A club site. Its alt id carries the member system's site code (Gladstone SiteID)."""

    name = models.CharField(max_length=200)
    alt_id = models.CharField(
        "alt ID", max_length=50, unique=True, help_text="The site code in the member system."
    )
    address = models.TextField(blank=True)
    latitude = models.DecimalField(
        max_digits=9, decimal_places=6, null=True, blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        max_digits=9, decimal_places=6, null=True, blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    time_zone = models.CharField(
        max_length=64, default="Europe/London", validators=[validate_time_zone],
        help_text="IANA name, used for display and for per-day rules.",
    )
    is_active = models.BooleanField("active", default=True)
    # Numbers other systems know this location by, e.g. {"perfectgym_club": "12"};
    # the keys are declared by integrations (clients.location_fields).
    integration_numbers = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name"]
        permissions = [("import_location", "Can import locations"), ("export_location", "Can export locations")]

    def __str__(self):
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class LocationTier(models.Model):
    """A "Location Membership" used as a tier: which locations a package may be used at."""

    name = models.CharField(max_length=100)
    alt_id = models.CharField(
        "alt ID", max_length=2, unique=True,
        validators=[RegexValidator(
            r"^0[0-9A-Z]$", "A tier alt ID is two characters: 0 then a digit or capital "
            "letter (00, 01, ... 09, 0A, ... 0Z).",
        )],
    )
    locations = models.ManyToManyField(Location, related_name="tiers", blank=True)

    class Meta:
        ordering = ["alt_id"]

    def __str__(self):
        return f"{self.alt_id} {self.name}"


class ClientQuerySet(models.QuerySet):
    def live(self):
        return self.filter(deleted_at__isnull=True)

    def deleted(self):
        return self.filter(deleted_at__isnull=False)


class LiveClientManager(models.Manager.from_queryset(ClientQuerySet)):
    """Clients that are not deleted; deleted ones are kept and can be restored."""

    def get_queryset(self):
        return super().get_queryset().live()


class Client(models.Model):
    """A member of the club. Deleting one is recoverable (see `deleted_at`)."""

    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    home_location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.SET_NULL, related_name="clients"
    )
    is_active = models.BooleanField("active", default=True)
    alt_id = models.CharField("alt ID", max_length=64, blank=True)
    tags = models.ManyToManyField(Tag, related_name="clients", blank=True)
    # Where the record comes from: the integration's key and the vendor's id for it.
    source = models.CharField(max_length=64, blank=True, default="")
    external_id = models.CharField(max_length=64, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Gatehouse's own app password, hashed (django.contrib.auth.hashers); empty: none.
    password = models.CharField(max_length=128, blank=True, default="", editable=False)

    objects = LiveClientManager()
    all_objects = ClientQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        base_manager_name = "all_objects"
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="client_unique_source_external_id"
            ),
            models.UniqueConstraint(
                fields=["alt_id"], condition=~Q(alt_id=""), name="client_unique_alt_id"
            ),
        ]
        # The member login's look-ups (clients.credentials), case-insensitive: only clients
        # with an app password log in, so a sync's writes seldom touch these. An alt id's
        # equality look-up uses client_unique_alt_id; no query needs plain e-mail or alt id
        # indexes (searches use icontains, which no btree serves).
        indexes = [
            models.Index(Upper("email"), condition=~Q(password=""), name="client_login_email"),
            models.Index(Upper("alt_id"), condition=~Q(password=""), name="client_login_alt_id"),
        ]
        permissions = [("import_client", "Can import clients"), ("export_client", "Can export clients")]

    def __str__(self):
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def validate_constraints(self, exclude=None):
        super().validate_constraints(exclude=exclude)
        # Django checks constraints through the live manager, but deleted clients keep
        # their alt id and (source, external id) in the database's unique indexes.
        exclude = set(exclude or ())
        deleted = Client.all_objects.deleted().exclude(pk=self.pk)
        if self.alt_id and "alt_id" not in exclude and deleted.filter(alt_id=self.alt_id).exists():
            raise ValidationError(
                {"alt_id": "A deleted client has this alt ID; restore that client instead."}
            )
        if (
            self.external_id is not None and not exclude & {"source", "external_id"}
            and deleted.filter(source=self.source, external_id=self.external_id).exists()
        ):
            raise ValidationError("A deleted client has this source and external ID.")


class IdentityType(models.Model):
    """A kind of identifier clients carry (Settings > Identities), with its rules."""

    class Kind(models.TextChoices):
        THIRD_PARTY_ID = "third_party_id", "Third-party ID"
        MEMBERSHIP_CARD = "membership_card", "Membership card"
        BARCODE = "barcode", "Barcode"
        KEY_FOB = "key_fob", "Key fob"

    type = models.CharField(max_length=32, choices=Kind.choices, default=Kind.THIRD_PARTY_ID)
    display_name = models.CharField(max_length=100, unique=True)
    max_per_client = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1)]
    )
    min_days_between_changes = models.PositiveSmallIntegerField(
        "minimum days between changes", default=0
    )
    is_active = models.BooleanField("active", default=True)

    class Meta:
        ordering = ["display_name"]

    def __str__(self):
        return self.display_name


class ClientIdentity(models.Model):
    """One identifier of a client; a value belongs to one client per identity type."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="identities")
    # No index of its own: identity_unique_value_per_type leads with it.
    identity_type = models.ForeignKey(
        IdentityType, on_delete=models.PROTECT, related_name="identities", db_index=False
    )
    value = models.CharField(max_length=128)
    changed_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name_plural = "client identities"
        constraints = [
            models.UniqueConstraint(
                fields=["identity_type", "value"], name="identity_unique_value_per_type"
            ),
        ]
        # The member login looks a value up whatever its type and case (clients.credentials).
        indexes = [models.Index(Upper("value"), name="identity_login_value")]

    def __str__(self):
        return f"{self.identity_type}: {self.value}"

    def clean(self):
        from clients.rules import identity_check

        if self.client_id and self.identity_type_id:
            identity_check(identity=self)


class MemberToken(models.Model):
    """An app token of a client: only its SHA-256 digest is stored, never the token.

    A login starts a family (one app session); refreshing rotates the refresh token
    within the family, and a rotated refresh token seen again revokes the family.
    """

    class Kind(models.TextChoices):
        ACCESS = "access", "Access"
        REFRESH = "refresh", "Refresh"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="app_tokens")
    kind = models.CharField(max_length=7, choices=Kind.choices)
    digest = models.CharField(max_length=64, unique=True)
    family = models.UUIDField(db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    # A rotated refresh token's successor pair, encrypted with a key derived from this
    # token's raw value (never stored), so a repeat within the grace period gets the same
    # pair back (clients.tokens). Empty once that grace is over.
    successor = models.TextField(blank=True, default="", editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["client", "revoked_at"])]

    def __str__(self):
        return f"{self.get_kind_display()} token of {self.client_id} ({self.created_at:%Y-%m-%d %H:%M})"


class LoginCounter(models.Model):
    """Member login attempts for one key: an identifier, an identifier from one IP, or an
    identifier from one device (whose successful login makes it a trusted device).

    The key is a digest, so identifiers and device ids people sent are not stored in the clear.
    """

    class Scope(models.TextChoices):
        IDENTIFIER = "identifier", "Identifier"
        PAIR = "pair", "Identifier and IP"
        DEVICE = "device", "Identifier and device"

    key = models.CharField(max_length=64, unique=True)
    scope = models.CharField(max_length=10, choices=Scope.choices)
    failures = models.PositiveIntegerField(default=0)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.scope} {self.key[:12]}: {self.failures} failure(s)"


class ClientTagChange(models.Model):
    """A tag Gatehouse added to or took from a client, kept in order (the id is a cursor).

    Written by clients.services.client_tags_change; member systems that mirror tags
    (Momence) walk these rows by id to push Gatehouse's own changes back.
    """

    class Action(models.TextChoices):
        ADD = "add", "Added"
        REMOVE = "remove", "Removed"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="tag_changes")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="client_changes")
    action = models.CharField(max_length=6, choices=Action.choices)
    at = models.DateTimeField(db_index=True)
    reason = models.CharField(max_length=200)
    source = models.CharField(
        max_length=64, default="gatehouse", help_text="Which part of Gatehouse made it, e.g. sequence."
    )

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.tag} {self.get_action_display().lower()} for {self.client} at {self.at:%Y-%m-%d %H:%M}"


def _luminance(colour: str) -> float:
    """The relative luminance (WCAG 2) of a #rrggbb colour."""
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


class ClubSettings(models.Model):
    """What members see of the club (the member portal's name, logo and colour); one row."""

    name = models.CharField("club name", max_length=100, default="Gatehouse")
    logo_url = models.URLField(
        "logo address", blank=True, help_text="An https address of the club's logo (shown about 40 px high)."
    )
    colour = models.CharField(
        max_length=7, default="#1d4f91",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "A colour like #1d4f91.")],
        help_text="The header colour, behind white text: it must be dark enough to read (contrast 4.5:1).",
    )

    class Meta:
        verbose_name = verbose_name_plural = "club settings"

    def __str__(self):
        return "Club settings"

    def save(self, *args, **kwargs):
        self.pk = 1  # one row: the deployment serves one organisation
        super().save(*args, **kwargs)

    def clean(self):
        if self.logo_url and not self.logo_url.lower().startswith("https://"):
            # The portal is served over https: a browser would block an http image.
            raise ValidationError({"logo_url": "Give the logo's https:// address."})
        if self.colour and len(self.colour) == 7 and self.colour.startswith("#"):
            try:
                contrast = 1.05 / (_luminance(self.colour) + 0.05)
            except ValueError:
                return  # the field's own validator says what is wrong
            if contrast < 4.5:
                raise ValidationError({"colour": f"White text on {self.colour} is hard to read (contrast "
                                                 f"{contrast:.1f}:1, at least 4.5:1 needed): pick a darker colour."})
