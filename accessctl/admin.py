"""Admin for doors (Settings > Doors) and door accesses."""

from django.contrib import admin, messages
from django.utils.html import format_html

from accessctl.backends import lock_state_text
from accessctl.models import AccessRule, Door, DoorAccess, DoorSystemUser, KisiGroup, KisiPlace
from accessctl.owners import rule_owner
from accessctl.resources import DoorResource
from accessctl.rules_admin import DoorRulesInline, VisitTypeInline, recent_unlocks
from accessctl.services import door_test_unlock
from clients.admin_buttons import ButtonsAdmin, button_of
from clients.importing import ClubImportExportAdmin


@admin.register(Door)
class DoorAdmin(ButtonsAdmin, ClubImportExportAdmin):
    resource_classes = [DoorResource]
    list_display = ["title", "door_id", "location", "access_control", "kisi_lock_id", "is_active"]
    list_filter = ["access_control", "is_active", "location"]
    search_fields = ["title", "door_id", "kisi_lock_id"]
    list_select_related = ["location"]
    actions = ["test_unlock"]
    change_actions = ["test_unlock_button"]
    inlines = [DoorRulesInline, VisitTypeInline]
    change_form_template = "admin/accessctl/door/change_form.html"  # adds the access log excerpt
    readonly_fields = ["lock_state"]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        door = self.get_object(request, object_id)
        extra = {"access_log": recent_unlocks(door), "lock_state": self.lock_state(door)} if door is not None else {}
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    @admin.display(description="Lock online")
    def lock_state(self, door):
        """What the door system last said about the lock (Kisi: the doors sync reads GET /locks)."""
        return lock_state_text(door.lock_online, door.lock_online_at) or "Not read yet: the doors sync stores it."

    def has_unlock_permission(self, request):
        return request.user.has_perm("accessctl.unlock_door")

    @admin.action(description="Test unlock", permissions=["unlock"])
    def test_unlock(self, request, queryset):
        for door in queryset:
            result = door_test_unlock(door=door)
            online = lock_state_text(result.online, result.online_at)
            self.message_user(request, f"{door}: {result.message}.{' ' + online if online else ''}",
                              messages.SUCCESS if result.ok else messages.ERROR)

    test_unlock_button = button_of(test_unlock)


@admin.register(DoorAccess)
class DoorAccessAdmin(admin.ModelAdmin):
    list_display = ["accessed_at", "client", "door", "granted", "source", "source_ref"]
    list_filter = ["granted", "source", "door__location", "door"]
    search_fields = ["client__first_name", "client__last_name", "client__email", "source_ref"]
    list_select_related = ["client", "door"]
    date_hierarchy = "accessed_at"
    readonly_fields = ["client", "door", "accessed_at", "granted", "source", "integration", "source_ref",
                       "created_at"]

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


RULE_FIELDS = ["group", "reason", "packages", "location", "minutes_before", "minutes_after", "owner", "is_active"]
OWNED = ("This rule is set by {} and recomputed from it on every save and members sync: change its "
         "group, packages or booking window (minutes before and after) <a href=\"{}\">there</a>.")


@admin.register(AccessRule)
class AccessRuleAdmin(admin.ModelAdmin):
    """Rules a configuration owns are shown read-only: the configuration is their source of truth."""

    list_display = ["group", "reason", "location", "minutes_before", "minutes_after", "configured_by",
                    "is_active"]
    list_filter = ["reason", "is_active", "group"]
    filter_horizontal = ["packages"]

    @admin.display(description="configured by", ordering="owner")
    def configured_by(self, obj):
        owner = rule_owner(obj.owner)
        return format_html('<a href="{}">{}</a>', owner.url, owner.label) if owner else obj.owner

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and rule_owner(obj.owner) is not None:
            return RULE_FIELDS
        return super().get_readonly_fields(request, obj)

    def get_fieldsets(self, request, obj=None):
        owner = rule_owner(obj.owner) if obj is not None else None
        if owner is None:
            return super().get_fieldsets(request, obj)
        return [(None, {"fields": RULE_FIELDS, "description": format_html(OWNED, owner.label, owner.url)})]


@admin.register(DoorSystemUser)
class DoorSystemUserAdmin(admin.ModelAdmin):
    list_display = ["client", "system", "external_id", "email", "created_at"]
    list_filter = ["system"]
    search_fields = ["client__first_name", "client__last_name", "email", "external_id"]
    raw_id_fields = ["client"]
