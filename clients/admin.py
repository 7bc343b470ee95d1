"""Admin for locations, tiers, identity types, tags and clients."""

from collections import Counter

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils import timezone

from clients.importing import ClubImportExportAdmin
from clients.location_fields import location_fields_shown
from clients.models import (
    Client,
    ClientIdentity,
    ClubSettings,
    IdentityType,
    Location,
    LocationTier,
    Tag,
)
from clients.resources import ClientResource, LocationResource
from clients.rules import identity_check
from clients.services import client_delete, client_restore, client_tags_set
from clients.tag_admin import tag_history_html
from clients.tokens import member_tokens_revoke_all


class LocationForm(forms.ModelForm):
    """Adds one field per integration number registered for locations."""

    class Meta:
        model = Location
        fields = ["name", "alt_id", "address", "latitude", "longitude", "time_zone", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        numbers = self.instance.integration_numbers or {}
        for field in location_fields_shown():
            self.fields[f"integration_{field.key}"] = forms.CharField(
                label=field.label, help_text=field.help_text, required=False,
                initial=numbers.get(field.key, ""),
            )

    def save(self, commit=True):
        numbers = dict(self.instance.integration_numbers or {})
        for field in location_fields_shown():
            value = (self.cleaned_data.get(f"integration_{field.key}") or "").strip()
            if value:
                numbers[field.key] = value
            else:
                numbers.pop(field.key, None)
        self.instance.integration_numbers = numbers
        return super().save(commit=commit)


@admin.register(Location)
class LocationAdmin(ClubImportExportAdmin):
    form = LocationForm
    resource_classes = [LocationResource]
    list_display = ["name", "alt_id", "time_zone", "is_active"]
    list_filter = ["is_active", "time_zone"]
    search_fields = ["name", "alt_id", "address"]

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (None, {"fields": ["name", "alt_id", "is_active"]}),
            ("Address", {"fields": ["address", "latitude", "longitude", "time_zone"]}),
        ]
        extra = [f"integration_{f.key}" for f in location_fields_shown()]
        if extra:
            fieldsets.append(("Integrations", {"fields": extra}))
        return fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        # LocationForm adds the integration numbers itself; the model form factory would
        # look for them on Location and raise FieldError.
        fields = kwargs["fields"] if "fields" in kwargs else [
            name for _, options in self.get_fieldsets(request, obj) for name in options["fields"]]
        if fields is not None:
            kwargs["fields"] = [name for name in fields if not name.startswith("integration_")]
        return super().get_form(request, obj, change, **kwargs)


@admin.register(LocationTier)
class LocationTierAdmin(admin.ModelAdmin):
    list_display = ["alt_id", "name"]
    search_fields = ["alt_id", "name"]
    filter_horizontal = ["locations"]


@admin.register(IdentityType)
class IdentityTypeAdmin(admin.ModelAdmin):
    list_display = ["display_name", "type", "max_per_client", "min_days_between_changes", "is_active"]
    list_filter = ["type", "is_active"]
    search_fields = ["display_name"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


class IdentityInlineFormSet(forms.BaseInlineFormSet):
    """Checks the per-client maximum across identities added together."""

    def clean(self):
        super().clean()
        adding = Counter(
            form.cleaned_data["identity_type"].pk
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
            and form.instance.pk is None and form.cleaned_data.get("identity_type")
        )
        for form in self.forms:
            kind = form.cleaned_data.get("identity_type") if form.cleaned_data else None
            if kind is None or form.instance.pk is not None or form.cleaned_data.get("DELETE"):
                continue
            form.instance.client = self.instance
            form.instance.identity_type = kind
            try:
                identity_check(
                    identity=form.instance, pending_same_type=adding[kind.pk] - 1
                )
            except ValidationError as error:
                raise ValidationError(error.messages) from error

    def save_existing(self, form, obj, commit=True):
        # A changed value restarts the minimum-days clock, as client_identity_set does.
        if "value" in form.changed_data:
            obj.changed_at = timezone.now()
        return super().save_existing(form, obj, commit=commit)


class ClientIdentityInline(admin.TabularInline):
    model = ClientIdentity
    formset = IdentityInlineFormSet
    extra = 0
    readonly_fields = ["changed_at"]


class DeletedFilter(admin.SimpleListFilter):
    """Deleted clients are hidden unless asked for, and can be restored from there."""

    title = "deleted"
    parameter_name = "deleted"

    def lookups(self, request, model_admin):
        return [("yes", "Deleted"), ("all", "All")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.deleted()
        if self.value() == "all":
            return queryset
        return queryset.live()


@admin.register(Client)
class ClientAdmin(ClubImportExportAdmin):
    resource_classes = [ClientResource]
    list_display = [
        "__str__", "email", "home_location", "is_active", "alt_id", "source", "updated_at",
    ]
    list_filter = [DeletedFilter, "is_active", "home_location", "tags", "source"]
    search_fields = ["first_name", "last_name", "email", "alt_id", "identities__value"]
    list_select_related = ["home_location"]
    readonly_fields = ["source", "external_id", "created_at", "updated_at", "deleted_at", "tag_history"]
    filter_horizontal = ["tags"]
    # packages/admin.py adds the client's packages (clients never imports packages).
    inlines = [ClientIdentityInline]
    actions = ["restore_clients", "revoke_app_tokens"]
    fieldsets = [
        (None, {"fields": ["first_name", "last_name", "email", "phone", "date_of_birth"]}),
        ("Membership", {"fields": ["home_location", "is_active", "alt_id", "tags"]}),
        ("Tag changes by Gatehouse (staff edits, booking sequences)", {"fields": ["tag_history"]}),
        ("Audit", {"fields": ["source", "external_id", "created_at", "updated_at", "deleted_at"]}),
    ]

    def get_queryset(self, request):
        return Client.all_objects.select_related("home_location")

    @admin.display(description="latest")
    def tag_history(self, obj):
        return tag_history_html(client=obj)

    def save_related(self, request, form, formsets, change):
        """Tags go through client_tags_set, so a staff edit is in the tag log (and reaches
        Momence) like the sequences' changes; the form saves everything else."""
        tags = form.cleaned_data.pop("tags", None)
        super().save_related(request, form, formsets, change)
        if tags is not None:
            client = form.instance
            wanted = {tag.pk for tag in tags}
            client_tags_set(tags={client.pk: wanted}, managed=wanted | set(client.tags.values_list("pk", flat=True)),
                            reason=f"edited in the admin by {request.user.get_username()}", source="gatehouse")

    def delete_model(self, request, obj):
        client_delete(client=obj)

    def delete_queryset(self, request, queryset):
        for client in queryset:
            client_delete(client=client)

    @admin.action(description="Restore selected deleted clients", permissions=["change"])
    def restore_clients(self, request, queryset):
        restored = [client_restore(client=c) for c in queryset.deleted()]
        self.message_user(request, f"Restored {len(restored)} client(s).", messages.SUCCESS)

    @admin.action(description="Log out of the app and the portal everywhere", permissions=["change"])
    def revoke_app_tokens(self, request, queryset):
        revoked = sum(member_tokens_revoke_all(client=c) for c in queryset)
        self.message_user(request, f"Revoked {revoked} app token(s) of {queryset.count()} client(s).",
                          messages.SUCCESS)


@admin.register(ClubSettings)
class ClubSettingsAdmin(admin.ModelAdmin):
    """Settings > Club settings: one row (name, logo, colour members see in the portal)."""

    fields = ["name", "logo_url", "colour"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "logo_url":
            kwargs["assume_scheme"] = "https"
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not ClubSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False
