"""The admin's read-only list of records waiting for a package, a tier or a location."""

from django.contrib import admin

from integrations.models import PendingRecord


@admin.register(PendingRecord)
class PendingRecordAdmin(admin.ModelAdmin):
    """What the member syncs could not place yet; creating what they wait for places them."""

    list_display = ["package_wanted", "client", "reference", "waits_for", "tier_wanted", "location_wanted",
                    "seen_at", "integration"]
    list_filter = ["waits_for", "integration", "package_wanted"]
    search_fields = ["package_wanted", "reference", "client__last_name", "client__email", "client__external_id"]
    list_select_related = ["client", "integration"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
