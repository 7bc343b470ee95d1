"""The admin's one "Deliveries" list: everything Gatehouse sent or tries to send to a vendor,
with each call's attempt read-only, and "Retry now"."""

from django.contrib import admin, messages

from integrations.models import Delivery, DeliveryAttempt
from integrations.outbox import deliveries_retry


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = ["started_at", "step", "request", "ok", "status_code", "duration_ms", "response_excerpt", "error"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "integration", "kind", "client", "record_type", "record_id", "what",
                    "state", "attempts", "next_attempt_at", "sent_at", "short_error"]
    list_filter = ["integration", "state", "kind"]
    search_fields = ["key", "record_id", "client__first_name", "client__last_name", "client__email",
                     "client__external_id"]
    list_select_related = ["integration", "client"]
    date_hierarchy = "created_at"
    inlines = [DeliveryAttemptInline]
    actions = ["retry_now"]
    readonly_fields = ["integration", "kind", "sync_name", "key", "version", "record_type", "record_id", "client",
                       "payload", "resend_interrupted", "state", "attempts", "next_attempt_at", "lease_until",
                       "last_error", "sent_at", "created_at", "updated_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Payload")
    def what(self, obj):
        return ", ".join(f"{k}={v}" for k, v in obj.payload.items())[:120]

    @admin.display(description="Last error")
    def short_error(self, obj):
        return obj.last_error[:80]

    @admin.action(description="Retry now", permissions=["change"])
    def retry_now(self, request, queryset):
        count = deliveries_retry(deliveries=queryset)
        self.message_user(request, f"{count} delivery(ies) will be sent again now.", messages.SUCCESS)
