"""The client's admin page with "Sync this member now" and where its records came from.

clients never imports integrations, so the client admin (with packages' inline) is
registered again here with the button, as packages/admin.py adds the packages inline.
"""

from django.contrib import admin, messages

from clients.admin_buttons import ButtonsAdmin, button_of
from clients.models import Client
from integrations.selectors import integration_source_names, member_sync_integration
from integrations.services import client_sync_start

MEMBER_SYNC = "integrations.retry_client_sync"  # staff.permissions.MEMBER_SYNC: the same permission

Registered = type(admin.site.get_model_admin(Client))  # packages' ClientWithPackagesAdmin


class SourceFilter(admin.SimpleListFilter):
    """Where a client came from, by the integration's name (never its key, e.g. perfectgym-2)."""

    title = "source"
    parameter_name = "source"

    def lookups(self, request, model_admin):
        names = integration_source_names()
        sources = Client.all_objects.values_list("source", flat=True).distinct().order_by("source")
        return [(s, names.get(s, "Gatehouse" if s in ("", "gatehouse") else s)) for s in sources]

    def queryset(self, request, queryset):
        return queryset.filter(source=self.value()) if self.value() is not None else queryset


class ClientSyncAdmin(ButtonsAdmin, Registered):
    list_display = [("source_name" if f == "source" else f) for f in Registered.list_display]
    list_filter = [(SourceFilter if f == "source" else f) for f in Registered.list_filter]
    readonly_fields = [("source_name" if f == "source" else f) for f in Registered.readonly_fields]
    fieldsets = [(title, {**opts, "fields": [("source_name" if f == "source" else f) for f in opts["fields"]]})
                 for title, opts in Registered.fieldsets]
    actions = [*Registered.actions, "sync_members_now"]
    change_actions = ["sync_member_now_button"]

    def has_member_sync_permission(self, request, obj=None):
        return request.user.has_perm(MEMBER_SYNC)

    @admin.display(description="source", ordering="source")
    def source_name(self, obj):
        """The integration's name the client came from (Gatehouse for its own)."""
        names = getattr(self, "_names", None)
        if names is None:
            names = integration_source_names()
        return names.get(obj.source, "Gatehouse" if obj.source in ("", "gatehouse") else obj.source)

    def changelist_view(self, request, extra_context=None):
        self._names = integration_source_names()  # one query for the whole list
        try:
            return super().changelist_view(request, extra_context)
        finally:
            self._names = None

    @admin.action(description="Sync selected members now (from their integration)", permissions=["member_sync"])
    def sync_members_now(self, request, queryset):
        started, refused = 0, 0
        for client in queryset:
            if client_sync_start(client=client) is None:
                refused += 1
            else:
                started += 1
        if started:
            self.message_user(request, f"Sync of {started} member(s) started.", messages.SUCCESS)
        if refused:
            self.message_user(request, f"{refused} client(s) do not come from an integration that can sync one "
                              "member.", messages.WARNING)

    sync_member_now_button = button_of(sync_members_now, label="Sync this member now")

    def button_shown(self, request, name, obj):
        return member_sync_integration(obj) is not None


admin.site.unregister(Client)
admin.site.register(Client, ClientSyncAdmin)
