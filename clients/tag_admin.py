"""Admin for the tag change log, and its excerpt on a client's page."""

from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from clients.models import Client, ClientTagChange


@admin.register(ClientTagChange)
class ClientTagChangeAdmin(admin.ModelAdmin):
    """Every tag Gatehouse added or removed (read-only; written by client_tags_change)."""

    list_display = ["at", "client", "tag", "action", "reason", "source"]
    list_filter = ["action", "source", "tag"]
    search_fields = ["client__first_name", "client__last_name", "client__email", "reason"]
    list_select_related = ["client", "tag"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def tag_history_html(*, client: Client | None, limit: int = 20) -> str:
    """The client's latest tag changes as a small table, with a link to all of them."""
    if client is None or client.pk is None:
        return "None yet."
    changes = list(client.tag_changes.select_related("tag")[:limit])
    if not changes:
        return "Gatehouse has not changed this client's tags."
    zone = client.home_location.zone if client.home_location_id else None
    rows = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", (
        (f"{timezone.localtime(c.at, zone):%Y-%m-%d %H:%M %Z}", c.get_action_display(), c.tag, c.reason)
        for c in changes))
    link = reverse("admin:clients_clienttagchange_changelist") + f"?client__id__exact={client.pk}"
    return format_html('<table><tr><th>When</th><th>Change</th><th>Tag</th><th>Why</th></tr>{}</table>'
                       '<p><a href="{}">All tag changes of this client</a></p>', rows, link)
