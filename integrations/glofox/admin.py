"""Glofox in the admin: configurations inline on the integration, check-ins with their attempts."""

from django.contrib import admin, messages
from django.utils.html import format_html

from integrations.glofox.forms import ConfigurationForm, ConfigurationFormSet
from integrations.glofox.models import CheckinAttempt, CheckinDelivery, GlofoxConfiguration
from integrations.glofox.services import deliveries_retry


class GlofoxConfigurationInline(admin.StackedInline):
    """Shown on the Glofox integration's page (GlofoxConnector.admin_inlines)."""

    model = GlofoxConfiguration
    form = ConfigurationForm
    formset = ConfigurationFormSet
    extra = 1
    fields = ["branch_id", "kisi_group", "kisi_place", "membership_types", "bookings_enabled",
              ("booking_minutes_before", "booking_minutes_after"), "time_zone"]
    readonly_fields = ["time_zone"]
    verbose_name = "configuration"
    verbose_name_plural = "Configurations (a Glofox location each)"


class CheckinAttemptInline(admin.TabularInline):
    model = CheckinAttempt
    extra = 0
    can_delete = False
    fields = ["started_at", "step", "ok", "status_code", "duration_ms", "response_excerpt"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(CheckinDelivery)
class CheckinDeliveryAdmin(admin.ModelAdmin):
    list_display = ["entry_at", "client", "door_name", "branch_id", "event_id", "status", "attempts",
                    "next_attempt_at", "sent_at", "short_error"]
    list_filter = ["status", "branch_id", "integration"]
    search_fields = ["member_id", "event_id", "door_access__client__first_name",
                     "door_access__client__last_name", "door_access__client__email"]
    list_select_related = ["door_access__client"]
    date_hierarchy = "entry_at"
    inlines = [CheckinAttemptInline]
    actions = ["retry_now"]
    readonly_fields = ["door_access", "integration", "configuration", "branch_id", "member_id", "event_id",
                       "entry_at", "door_name", "status", "attempts", "next_attempt_at", "claimed_until",
                       "access_sent_at", "attendance_sent_at", "sent_at", "last_error", "created_at"]
    exclude = ["claim_token"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="Client", ordering="door_access__client__last_name")
    def client(self, obj):
        return obj.door_access.client

    @admin.display(description="Last error")
    def short_error(self, obj):
        return format_html("<span title='{}'>{}</span>", obj.last_error, obj.last_error[:80])

    @admin.action(description="Retry now", permissions=["change"])
    def retry_now(self, request, queryset):
        count = deliveries_retry(deliveries=queryset)
        self.message_user(request, f"{count} check-in(s) will be sent again now.", messages.SUCCESS)
