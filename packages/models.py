"""What clients hold and book: packages, client packages, class sessions, bookings, credits."""

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q

from clients.models import Client, Location, LocationTier, Tag


class Package(models.Model):
    """A product the club sells. Its alt id is how member systems name it."""

    class Kind(models.TextChoices):
        MEMBERSHIP = "membership", "Membership / subscription"
        CREDIT_PACK = "credit_pack", "Credit pack"
        PAY_AS_YOU_GO = "payg", "Pay-as-you-go"
        UNLIMITED = "unlimited", "Unlimited subscription"
        COMBINED_LIMIT = "combined_limit", "Subscription with a combined usage limit"
        SEPARATE_LIMITS = "separate_limits", "Subscription with separate usage limits"

    name = models.CharField(max_length=200)
    alt_id = models.CharField(
        "alt ID", max_length=64, unique=True,
        help_text="How the member system names it, e.g. payment_plan_24, product_26, PTPK01.",
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.MEMBERSHIP)
    credits = models.PositiveIntegerField(
        null=True, blank=True, help_text="Credits a new client package starts with."
    )
    tags = models.ManyToManyField(
        Tag, related_name="packages", blank=True,
        help_text="Tags every holder gets. Tags a member system puts here follow it: one removed "
                  "here comes back on its next sync while the member system still lists it.",
    )
    is_active = models.BooleanField("active", default=True)

    class Meta:
        ordering = ["name"]
        permissions = [("import_package", "Can import packages"), ("export_package", "Can export packages")]

    def __str__(self):
        return f"{self.name} ({self.alt_id})"


class PackageTagOrigin(models.Model):
    """A tag on a package because a member system lists it there (e.g. Momence's
    membership tags); a package's tag without one was added in Gatehouse (by hand or
    an import). `source` is the integration's source key, `source_label` how the admin
    names it. packages.services.package_tags_import keeps these and the tags in step.
    """

    package = models.ForeignKey(Package, on_delete=models.CASCADE, related_name="tag_origins")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=64)
    source_label = models.CharField(max_length=200)

    class Meta:
        ordering = ["package_id", "tag__name"]
        constraints = [
            models.UniqueConstraint(fields=["package", "tag", "source"], name="package_tag_origin_once"),
        ]

    def __str__(self):
        return f"{self.tag} on {self.package} from {self.source_label}"


class ClientPackage(models.Model):
    """A package a client holds, at a location and tier, for a period."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        EXPIRED = "expired", "Expired"
        CANCELLED = "cancelled", "Cancelled"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="packages")
    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="holders")
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Indexed only where set (client_package_tier): most packages have no tier.
    tier = models.ForeignKey(
        LocationTier, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    start = models.DateTimeField()
    end = models.DateTimeField(null=True, blank=True, help_text="Empty: open-ended.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    # NULL, not "", when there is no reference: (source, alt_id) is the sync's upsert key.
    alt_id = models.CharField(
        "alt ID", max_length=64, null=True, blank=True,
        help_text="The member system's reference, e.g. Gladstone SubscriptionRef.",
    )
    credits_remaining = models.IntegerField(
        null=True, blank=True, validators=[MinValueValidator(0)]
    )
    source = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=F("start")),
                name="client_package_end_after_start",
                violation_error_message="The end must not be before the start.",
            ),
            models.CheckConstraint(
                condition=Q(credits_remaining__isnull=True) | Q(credits_remaining__gte=0),
                name="client_package_credits_not_negative",
            ),
            models.UniqueConstraint(
                fields=["source", "alt_id"], name="client_package_unique_source_alt_id",
            ),
        ]
        # A deleted tier's packages are found through it (SET_NULL); a sync's untiered
        # rows add nothing to it.
        indexes = [models.Index(fields=["tier"], condition=Q(tier__isnull=False), name="client_package_tier")]
        permissions = [("import_clientpackage", "Can import client packages"),
                       ("export_clientpackage", "Can export client packages")]

    def __str__(self):
        return f"{self.package.name} for {self.client}"

    def save(self, *args, **kwargs):
        self.alt_id = self.alt_id or None
        super().save(*args, **kwargs)


class ClassSession(models.Model):
    """A scheduled class or appointment slot at a location."""

    name = models.CharField(max_length=200)
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="sessions")
    start = models.DateTimeField(db_index=True)
    end = models.DateTimeField()
    source = models.CharField(max_length=64, blank=True, default="")
    external_id = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=F("start")), name="class_session_end_after_start",
                violation_error_message="A class must end after it starts.",
            ),
            models.UniqueConstraint(
                fields=["source", "external_id"], name="class_session_unique_source_external_id"
            ),
        ]

    def __str__(self):
        return f"{self.name} {self.start:%Y-%m-%d %H:%M}"


class Booking(models.Model):
    """A client's place in a class session."""

    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        WAITING = "waiting", "Waiting list"
        CANCELLED = "cancelled", "Cancelled"

    session = models.ForeignKey(ClassSession, on_delete=models.CASCADE, related_name="bookings")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="bookings")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.BOOKED)
    attended = models.BooleanField(default=False)
    source = models.CharField(max_length=64, blank=True, default="")
    external_id = models.CharField(max_length=64, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-session__start"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="booking_unique_source_external_id"
            ),
        ]

    def __str__(self):
        return f"{self.client} in {self.session}"


class CreditEntry(models.Model):
    """One movement of credits on a client package; `reference` makes it happen once."""

    client_package = models.ForeignKey(
        ClientPackage, on_delete=models.CASCADE, related_name="credit_entries"
    )
    change = models.IntegerField(help_text="Negative when credits are spent.")
    balance_after = models.IntegerField(validators=[MinValueValidator(0)])
    reason = models.CharField(max_length=200)
    reference = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "credit entries"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["client_package", "reference"], name="credit_entry_once_per_reference"
            ),
        ]

    def __str__(self):
        return f"{self.change:+d} credits ({self.reason})"
