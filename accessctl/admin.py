"""Admin for doors (Settings > Doors) and door accesses."""

from django.contrib import admin
from import_export.admin import ImportExportModelAdmin

from accessctl.models import Door, DoorAccess
from accessctl.resources import DoorResource


@admin.register(Door)
class DoorAdmin(ImportExportModelAdmin):
    resource_classes = [DoorResource]
    list_display = ["title", "door_id", "location", "access_control", "kisi_lock_id", "is_active"]
    list_filter = ["access_control", "is_active", "location"]
    search_fields = ["title", "door_id", "kisi_lock_id"]
    list_select_related = ["location"]


@admin.register(DoorAccess)
class DoorAccessAdmin(admin.ModelAdmin):
    list_display = ["accessed_at", "client", "door", "granted", "source", "source_ref"]
    list_filter = ["granted", "source", "door__location", "door"]
    search_fields = ["client__first_name", "client__last_name", "client__email", "source_ref"]
    list_select_related = ["client", "door"]
    date_hierarchy = "accessed_at"
    readonly_fields = ["client", "door", "accessed_at", "granted", "source", "source_ref", "created_at"]

    def has_add_permission(self, request):
        return False
