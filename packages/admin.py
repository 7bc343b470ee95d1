"""Admin for packages, client packages, classes, bookings and the credit ledger."""

from collections import defaultdict

from django.contrib import admin
from django.utils.html import format_html, format_html_join

from clients.admin import ClientAdmin
from clients.importing import ClubImportExportAdmin
from clients.models import Client
from packages.models import Booking, ClassSession, ClientPackage, CreditEntry, Package
from packages.resources import ClientPackageResource, PackageResource


@admin.register(Package)
class PackageAdmin(ClubImportExportAdmin):
    resource_classes = [PackageResource]
    list_display = ["name", "alt_id", "kind", "credits", "is_active"]
    list_filter = ["kind", "is_active", "tags"]
    search_fields = ["name", "alt_id"]
    filter_horizontal = ["tags"]
    fields = ["name", "alt_id", "kind", "credits", "tags", "tag_origins", "is_active"]
    readonly_fields = ["tag_origins"]

    @admin.display(description="where its tags come from")
    def tag_origins(self, obj):
        """Each tag with the member system that lists it on this package, or "added by hand"."""
        if obj is None or obj.pk is None:
            return "Added by hand (member systems add theirs when they sync)."
        sources = defaultdict(list)
        for tag_id, label in obj.tag_origins.values_list("tag_id", "source_label"):
            sources[tag_id].append(f"from {label}")
        rows = [(tag.name, ", ".join(sources[tag.pk]) or "added by hand") for tag in obj.tags.all()]
        if not rows:
            return "No tags."
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}: {}</li>", rows))


class CreditEntryInline(admin.TabularInline):
    model = CreditEntry
    extra = 0
    can_delete = False
    readonly_fields = ["change", "balance_after", "reason", "reference", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ClientPackage)
class ClientPackageAdmin(ClubImportExportAdmin):
    resource_classes = [ClientPackageResource]
    list_display = [
        "client", "package", "location", "tier", "start", "end", "status", "credits_remaining",
        "alt_id", "source",
    ]
    list_filter = ["status", "package", "location", "tier", "source"]
    search_fields = ["client__first_name", "client__last_name", "client__email", "alt_id", "package__alt_id"]
    list_select_related = ["client", "package", "location", "tier"]
    autocomplete_fields = ["client", "package"]
    readonly_fields = ["source", "created_at", "updated_at"]
    inlines = [CreditEntryInline]
    date_hierarchy = "start"


class BookingInline(admin.TabularInline):
    model = Booking
    extra = 0
    autocomplete_fields = ["client"]
    fields = ["client", "status", "attended", "source", "external_id"]
    readonly_fields = ["source", "external_id"]


@admin.register(ClassSession)
class ClassSessionAdmin(admin.ModelAdmin):
    list_display = ["name", "location", "start", "end"]
    list_filter = ["location"]
    search_fields = ["name"]
    date_hierarchy = "start"
    inlines = [BookingInline]


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    list_display = ["client", "session", "status", "attended", "source"]
    list_filter = ["status", "attended", "session__location"]
    search_fields = ["client__first_name", "client__last_name", "client__email", "session__name"]
    list_select_related = ["client", "session"]
    autocomplete_fields = ["client", "session"]
    readonly_fields = ["source", "external_id", "created_at", "updated_at"]


class ClientPackageInline(admin.TabularInline):
    model = ClientPackage
    extra = 0
    fields = ["package", "location", "tier", "start", "end", "status", "credits_remaining", "alt_id"]
    autocomplete_fields = ["package"]
    show_change_link = True


# A client's page lists their packages; the inline lives here because clients never imports packages.
admin.site.unregister(Client)


@admin.register(Client)
class ClientWithPackagesAdmin(ClientAdmin):
    inlines = [*ClientAdmin.inlines, ClientPackageInline]
