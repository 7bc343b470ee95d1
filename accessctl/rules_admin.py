"""Admin for door rules (inlines on the door), visit types, the access log and sequences."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from accessctl.decisions import PAYING_KINDS
from accessctl.models import (
    DoorRules,
    SequenceGrant,
    TagSequence,
    UnlockAttempt,
    VisitAvailability,
    VisitType,
)

VISIT_TYPES_PREFIX = "visit_types"


def visit_types_kept(data, door) -> bool:
    """Whether the door keeps at least one visit type after this submit of its page."""
    total = data.get(f"{VISIT_TYPES_PREFIX}-TOTAL_FORMS")
    if total is None:
        return door.pk is not None and door.visit_types.exists()
    return any(
        (data.get(f"{VISIT_TYPES_PREFIX}-{i}-name") or "").strip()
        and not data.get(f"{VISIT_TYPES_PREFIX}-{i}-DELETE")
        for i in range(int(total) if total.isdigit() else 0)
    )


class DoorRulesFormSet(BaseInlineFormSet):
    """Paid access needs a visit type, edited in the inline beside this one."""

    def clean(self):
        super().clean()
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if data.get("paid_access") and not data.get("DELETE") and not visit_types_kept(self.data, self.instance):
                raise ValidationError("Paid access needs at least one visit type: add one under Visit types.")


class DoorRulesInline(admin.StackedInline):
    model = DoorRules
    formset = DoorRulesFormSet
    can_delete = False
    min_num = max_num = 1
    autocomplete_fields = ["tags"]
    fieldsets = [
        ("Who opens it from the app", {"fields": ["tags", "paid_access"]}),
        ("Geofencing", {"fields": ["geofence", ("geofence_radius", "geofence_unit"), "geofence_centre"]}),
    ]


class VisitTypeForm(forms.ModelForm):
    class Meta:
        model = VisitType
        fields = ["door", "name", "price", "packages"]

    def clean_packages(self):
        packages = self.cleaned_data["packages"]
        unfit = [p.name for p in packages if p.kind not in PAYING_KINDS]
        if unfit:
            raise ValidationError(
                f"These cannot pay for visits: {', '.join(unfit)}. Only credit packs, unlimited "
                "subscriptions and subscriptions with a combined usage limit can (never separate limits)."
            )
        return packages


class VisitTypeInline(admin.TabularInline):
    model = VisitType
    form = VisitTypeForm
    extra = 0
    fields = ["name", "price", "packages", "availability"]
    readonly_fields = ["availability"]
    autocomplete_fields = ["packages"]
    show_change_link = True
    verbose_name_plural = "Visit types (paid access): open one to set its days and hours"

    @admin.display(description="available")
    def availability(self, obj):
        return obj.availability_summary() if obj.pk else "any time (set days and hours after saving)"


class VisitAvailabilityInline(admin.TabularInline):
    model = VisitAvailability
    extra = 1


@admin.register(VisitType)
class VisitTypeAdmin(admin.ModelAdmin):
    """A visit type's days and hours; reached from its door's page."""

    form = VisitTypeForm
    list_display = ["name", "door", "price"]
    list_select_related = ["door"]
    search_fields = ["name", "door__title"]
    autocomplete_fields = ["packages"]
    inlines = [VisitAvailabilityInline]

    def get_model_perms(self, request):
        return {}  # edited from the door's page, not listed on the admin index

    def response_change(self, request, obj):
        if "_continue" in request.POST or "_addanother" in request.POST:
            return super().response_change(request, obj)
        return HttpResponseRedirect(reverse("admin:accessctl_door_change", args=[obj.door_id]))


@admin.register(UnlockAttempt)
class UnlockAttemptAdmin(admin.ModelAdmin):
    """The access log: every unlock members asked for (read-only)."""

    list_display = ["attempted_at", "client", "door", "outcome", "method", "reason", "credits", "refunded",
                    "visit_type_name", "door_answer", "distance_m"]
    list_filter = ["outcome", "method", "refunded", "door__location", "door"]
    search_fields = ["client__first_name", "client__last_name", "client__email", "reason"]
    list_select_related = ["client", "door"]
    date_hierarchy = "attempted_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def recent_unlocks(door, limit: int = 10):
    """The door page's access log excerpt: its latest attempts and a link to all of them."""
    attempts = list(UnlockAttempt.objects.filter(door=door).select_related("client")[:limit])
    link = reverse("admin:accessctl_unlockattempt_changelist") + f"?door__id__exact={door.pk}"
    return {"attempts": attempts, "all_link": link}


@admin.register(TagSequence)
class TagSequenceAdmin(admin.ModelAdmin):
    list_display = ["name", "tag", "location", "minutes_before", "minutes_after", "is_active"]
    list_filter = ["is_active", "location", "tag"]
    search_fields = ["name", "class_names"]
    autocomplete_fields = ["tag"]
    readonly_fields = ["recent_loans"]
    fieldsets = [
        (None, {"fields": ["name", "tag", "class_names", "location", "is_active"]}),
        ("Timing", {"fields": ["minutes_before", "minutes_after"]}),
        ("Latest tag loans", {"fields": ["recent_loans"]}),
    ]

    @admin.display(description="tag loans")
    def recent_loans(self, obj):
        if obj is None or obj.pk is None:
            return "None yet."
        grants = obj.grants.select_related("client")[:20]
        rows = format_html_join("", "<tr><td>{}</td><td>{} {}</td><td>{}</td><td>{}</td></tr>", (
            (g.client, g.session_name, f"{g.session_start:%Y-%m-%d %H:%M} UTC",
             f"{g.added_at:%Y-%m-%d %H:%M}" + ("" if g.tag_added else " (already had it)"),
             f"{g.removed_at:%Y-%m-%d %H:%M}" if g.removed_at else "open") for g in grants))
        link = reverse("admin:accessctl_sequencegrant_changelist") + f"?sequence__id__exact={obj.pk}"
        return format_html('<table><tr><th>Member</th><th>Booking</th><th>Added</th><th>Removed</th></tr>{}'
                           '</table><p><a href="{}">All tag loans of this sequence</a></p>', rows, link)


@admin.register(SequenceGrant)
class SequenceGrantAdmin(admin.ModelAdmin):
    """Each booking's tag loan by a sequence (read-only; the every-minute task writes them)."""

    list_display = ["client", "tag", "session_name", "session_start", "added_at", "tag_added", "removed_at",
                    "tag_removed", "sequence"]
    list_filter = ["sequence", "tag", "tag_added", "tag_removed"]
    search_fields = ["client__first_name", "client__last_name", "client__email", "session_name"]
    list_select_related = ["client", "tag", "sequence"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

