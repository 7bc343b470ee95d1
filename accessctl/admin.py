"""Admin for doors (Settings > Doors) and door accesses."""

from django.contrib import admin, messages

from accessctl.models import AccessRule, Door, DoorAccess, DoorSystemUser, KisiGroup, KisiPlace
from accessctl.resources import DoorResource
from accessctl.rules_admin import DoorRulesInline, VisitTypeInline, recent_unlocks
from accessctl.services import door_test_unlock
from clients.importing import ClubImportExportAdmin


@admin.register(Door)
class DoorAdmin(ClubImportExportAdmin):
    resource_classes = [DoorResource]
    list_display = ["title", "door_id", "location", "access_control", "kisi_lock_id", "is_active"]
    list_filter = ["access_control", "is_active", "location"]
    search_fields = ["title", "door_id", "kisi_lock_id"]
    list_select_related = ["location"]
    actions = ["test_unlock"]
    inlines = [DoorRulesInline, VisitTypeInline]
    change_form_template = "admin/accessctl/door/change_form.html"  # adds the access log excerpt

    def change_view(self, request, object_id, form_url="", extra_context=None):
        door = self.get_object(request, object_id)
        extra = {"access_log": recent_unlocks(door)} if door is not None else {}
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def has_unlock_permission(self, request):
        return request.user.has_perm("accessctl.unlock_door")

    @admin.action(description="Test unlock", permissions=["unlock"])
    def test_unlock(self, request, queryset):
        for door in queryset:
            result = door_test_unlock(door=door)
            online = "" if result.online is None else (" The lock is online." if result.online
                                                        else " The lock is offline.")
            self.message_user(request, f"{door}: {result.message}.{online}",
                              messages.SUCCESS if result.ok else messages.ERROR)


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


@admin.register(KisiPlace)
class KisiPlaceAdmin(admin.ModelAdmin):
    list_display = ["name", "kisi_id", "location", "time_zone"]
    search_fields = ["name", "kisi_id"]
    list_editable = ["location"]


@admin.register(KisiGroup)
class KisiGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "kisi_id", "place"]
    list_filter = ["place"]
    search_fields = ["name", "kisi_id"]


@admin.register(AccessRule)
class AccessRuleAdmin(admin.ModelAdmin):
    list_display = ["group", "reason", "location", "minutes_before", "minutes_after", "owner", "is_active"]
    list_filter = ["reason", "is_active", "group"]
    filter_horizontal = ["packages"]


@admin.register(DoorSystemUser)
class DoorSystemUserAdmin(admin.ModelAdmin):
    list_display = ["client", "system", "external_id", "email", "created_at"]
    list_filter = ["system"]
    search_fields = ["client__first_name", "client__last_name", "email", "external_id"]
    raw_id_fields = ["client"]
