"""Momence's delivery logs in the admin: every check-in and tag push with its attempts."""

from django.contrib import admin, messages

from integrations.momence.models import CheckinDelivery, Delivery, TagPush
from integrations.momence.services import deliveries_retry


class DeliveryAdmin(admin.ModelAdmin):
    list_filter = ["status", "integration"]
    actions = ["retry"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_retry_permission(self, request):
        opts = self.model._meta
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    @admin.action(description="Retry the failed ones", permissions=["retry"])
    def retry(self, request, queryset):
        count = deliveries_retry(model=self.model, ids=list(queryset.filter(status=Delivery.Status.FAILED)
                                                            .values_list("pk", flat=True)))
        self.message_user(request, f"{count} delivery(ies) will be retried on the next run.",
                          messages.SUCCESS)


@admin.register(CheckinDelivery)
class CheckinDeliveryAdmin(DeliveryAdmin):
    list_display = ["created_at", "integration", "booking", "booking_ref", "status", "attempts", "sent_at",
                    "last_error"]
    list_select_related = ["integration", "booking__client", "booking__session"]
    search_fields = ["booking_ref"]


@admin.register(TagPush)
class TagPushAdmin(DeliveryAdmin):
    list_display = ["created_at", "integration", "client", "tag", "action", "status", "attempts", "sent_at",
                    "last_error"]
    list_select_related = ["integration", "client", "tag"]
    search_fields = ["client__last_name", "client__email", "tag__name"]
