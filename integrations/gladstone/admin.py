"""What the member sync saw without a package, for managers between two daily audits."""

from django.contrib import admin

from integrations.gladstone.models import UnmatchedSubscription


@admin.register(UnmatchedSubscription)
class UnmatchedSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["sub_type_id", "client", "member_id", "subscription_ref", "start", "seen_at", "integration"]
    list_filter = ["integration", "sub_type_id"]
    search_fields = ["sub_type_id", "member_id", "subscription_ref", "client__last_name", "client__email"]
    list_select_related = ["client", "integration"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
