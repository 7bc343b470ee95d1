"""The admin's sync runs, sync issues and webhook events (read-only logs)."""

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.html import format_html

from integrations.connectors import connector_class
from integrations.errors import VendorError
from integrations.models import SyncIssue, SyncRun, WebhookEvent
from integrations.story import QUIET, quiet_runs


class ResolvedFilter(admin.SimpleListFilter):
    title = "resolved"
    parameter_name = "resolved"

    def lookups(self, request, model_admin):
        return [("no", "Open"), ("yes", "Resolved")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


class QuietFilter(admin.SimpleListFilter):
    """Runs that found nothing and changed nothing are folded into one line unless asked for."""

    title = "runs with no changes"
    parameter_name = "quiet"

    def lookups(self, request, model_admin):
        return [("show", "Shown"), ("only", "Only those")]

    def choices(self, changelist):
        for choice in super().choices(changelist):
            if choice["display"] == "All":
                choice["display"] = "Folded"
            yield choice

    def queryset(self, request, queryset):
        if self.value() == "only":
            return queryset.filter(QUIET)
        if self.value() == "show":
            return queryset
        return queryset.exclude(QUIET)


class SyncNameFilter(admin.SimpleListFilter):
    """Which sync, by the labels the connectors give them (never the internal name)."""

    title = "sync"
    parameter_name = "sync_name"

    def lookups(self, request, model_admin):
        labels: dict[str, set[str]] = {}
        pairs = (model_admin.get_queryset(request).values_list("integration__kind", "sync_name")
                 .distinct().order_by())
        for kind, name in pairs:
            try:
                spec = {spec.name: spec.label for spec in connector_class(kind).syncs}
            except VendorError:
                spec = {}
            labels.setdefault(name, set()).add(spec.get(name, name))
        return sorted(((name, " / ".join(sorted(found))) for name, found in labels.items()), key=lambda p: p[1])

    def queryset(self, request, queryset):
        return queryset.filter(sync_name=self.value()) if self.value() else queryset


def sync_label(integration, sync_name: str) -> str:
    """The sync's label as its connector names it (the name when the vendor is gone)."""
    try:
        specs = {spec.name: spec.label for spec in connector_class(integration.kind).syncs}
    except VendorError:
        return sync_name
    return specs.get(sync_name, sync_name)


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = ["started_at", "integration", "sync", "trigger", "status", "counts", "duration", "short_error"]
    list_filter = [QuietFilter, "status", "trigger", "integration", SyncNameFilter]
    list_select_related = ["integration"]
    date_hierarchy = "started_at"
    change_list_template = "admin/integrations/syncrun/change_list.html"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        folded = None
        if not request.GET.get(QuietFilter.parameter_name):
            runs = SyncRun.objects.all()
            if request.GET.get("integration__id__exact", "").isdigit():
                runs = runs.filter(integration_id=request.GET["integration__id__exact"])
            folded = quiet_runs(runs)
            query = request.GET.copy()
            query[QuietFilter.parameter_name] = "only"
            folded.url = f"?{query.urlencode()}"
        return super().changelist_view(request, {"folded": folded, **(extra_context or {})})

    @admin.display(description="Sync", ordering="sync_name")
    def sync(self, obj):
        return sync_label(obj.integration, obj.sync_name)

    @admin.display(description="Records")
    def counts(self, obj):
        return format_html(
            '<span title="created, updated, unchanged, skipped, failed">+{} ~{} ={} skipped {} failed {}</span>',
            obj.created, obj.updated, obj.unchanged, obj.skipped, obj.failed)

    @admin.display(description="Error")
    def short_error(self, obj):
        return obj.error[:100]


@admin.register(SyncIssue)
class SyncIssueAdmin(admin.ModelAdmin):
    list_display = ["last_seen_at", "integration", "sync_name", "record_key", "reason",
                    "occurrences", "resolved_at"]
    list_filter = [ResolvedFilter, "integration", SyncNameFilter]
    search_fields = ["record_key", "reason"]
    readonly_fields = ["integration", "run", "sync_name", "record_key", "reason", "payload",
                       "created_at", "last_seen_at", "occurrences", "resolved_at", "resolved_by"]
    actions = ["resolve"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Mark resolved", permissions=["change"])
    def resolve(self, request, queryset):
        count = queryset.filter(resolved_at__isnull=True).update(
            resolved_at=timezone.now(), resolved_by=request.user.get_username()
        )
        self.message_user(request, f"{count} issue(s) resolved.", messages.SUCCESS)


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["received_at", "integration", "event_type", "event_id", "status", "processed_at"]
    list_filter = ["status", "integration", "event_type"]
    search_fields = ["event_id"]
    readonly_fields = ["integration", "event_id", "event_type", "payload", "received_at",
                       "processed_at", "status", "error"]

    def has_add_permission(self, request):
        return False
