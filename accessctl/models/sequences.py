"""Booking sequences: a tag given shortly before a booked class and taken after it."""

from django.core.exceptions import ValidationError
from django.db import models

from clients.models import Client, Location, Tag


class TagSequence(models.Model):
    """For bookings of the named classes or appointment types, lend a tag around the visit.

    The tag is added `minutes_before` the start and removed `minutes_after` the end by
    the every-minute task (accessctl.tasks.sequences_task); doors listing the tag open
    for the member in between.
    """

    name = models.CharField(max_length=100)
    tag = models.ForeignKey(Tag, on_delete=models.PROTECT, related_name="sequences")
    class_names = models.TextField(
        "classes and appointment types",
        help_text="One name per line, as the member system names the class or appointment "
                  "type (any case).",
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.CASCADE, related_name="tag_sequences",
        help_text="Only bookings at this location; empty: every location.",
    )
    minutes_before = models.PositiveIntegerField(
        default=30, help_text="Add the tag this many minutes before the start."
    )
    minutes_after = models.PositiveIntegerField(
        default=0, help_text="Remove the tag this many minutes after the end."
    )
    is_active = models.BooleanField("active", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "booking sequence"

    def __str__(self):
        return self.name

    def names(self) -> list[str]:
        """The class names it reacts to, lower case."""
        return sorted({line.strip().lower() for line in self.class_names.splitlines() if line.strip()})

    def clean(self):
        if not self.names():
            raise ValidationError({"class_names": "Name at least one class or appointment type."})


class SequenceGrant(models.Model):
    """One booking's tag loan by one sequence: when the tag was added and removed.

    Unique per (sequence, booking), so each addition and each removal happens once.
    `tag_added` says whether the member lacked the tag (a tag they already had for
    another reason is not taken away by the sequence).
    """

    sequence = models.ForeignKey(
        TagSequence, null=True, on_delete=models.SET_NULL, related_name="grants"
    )
    booking = models.ForeignKey(
        "packages.Booking", null=True, on_delete=models.SET_NULL, related_name="sequence_grants"
    )
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="sequence_grants")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="+")
    session_name = models.CharField(max_length=200)
    session_start = models.DateTimeField()
    added_at = models.DateTimeField()
    tag_added = models.BooleanField(default=False)
    removed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    tag_removed = models.BooleanField(default=False)

    class Meta:
        ordering = ["-added_at"]
        constraints = [
            models.UniqueConstraint(fields=["sequence", "booking"], name="sequence_grant_once_per_booking"),
        ]

    def __str__(self):
        return f"{self.tag} for {self.client} ({self.session_name} {self.session_start:%Y-%m-%d %H:%M})"
