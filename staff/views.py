"""Staff pages: integration health, the client page, sync issues. Server-rendered; the
access log refreshes itself with a little JavaScript and works without it."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_q.tasks import async_task

from accessctl.access_log import access_log_entries
from clients.models import Client
from integrations.connectors import connector_class
from integrations.errors import VendorError
from integrations.health import readiness
from integrations.models import Alert, Integration, SyncIssue
from integrations.selectors import (
    attention_pending,
    integration_source_names,
    integrations_health,
    member_sync_integration,
    sync_issues_open_by_reason,
)
from integrations.services import client_sync_start, sync_issue_resolve
from packages.models import ClientPackage
from staff import permissions as need
from staff.charts import sync_chart_svg
from staff.filters import StaffFilters, filters_render
from staff.permissions import refused, staff_permission_required


@staff_permission_required(need.DASHBOARD)
def dashboard(request):
    """The readiness checks (as /readyz) and open alerts, then one card per integration:
    status, last sync, lag, next run, errors, 7-day chart."""
    cards = [(health, sync_chart_svg(health.days)) for health in integrations_health()]
    alerts = Alert.objects.filter(active=True).select_related("integration")
    return render(request, "staff/dashboard.html", {"cards": cards, "readiness": readiness(), "alerts": alerts})


@staff_permission_required(need.CLIENTS)
def client_list(request):
    filters = StaffFilters(request.GET)
    query = filters.text("q")
    clients = Client.objects.select_related("home_location")
    if query:
        clients = clients.filter(
            Q(first_name__icontains=query) | Q(last_name__icontains=query) | Q(email__icontains=query)
            | Q(alt_id=query) | Q(identities__value=query)
        ).distinct()
    page = Paginator(clients, 50).get_page(filters.page_number())
    return filters_render(request, "staff/client_list.html", {"page": page, "query": query}, filters)


@staff_permission_required(need.CLIENTS)
def client_detail(request, client_id: int):
    """Everything about one client, and which integration each fact came from."""
    client = get_object_or_404(Client.all_objects.select_related("home_location"), pk=client_id)
    sources = integration_source_names()
    now = timezone.now()
    packages = list(client.packages.select_related("package", "location", "tier"))
    return render(request, "staff/client_detail.html", {
        "client": client,
        "source_name": sources.get(client.source, "Gatehouse"),
        "identities": client.identities.select_related("identity_type"),
        "active_packages": [(p, sources.get(p.source, "Gatehouse")) for p in packages
                            if p.status == ClientPackage.Status.ACTIVE and (p.end is None or p.end > now)],
        "past_packages": [(p, sources.get(p.source, "Gatehouse")) for p in packages
                          if not (p.status == ClientPackage.Status.ACTIVE and (p.end is None or p.end > now))],
        "bookings": [(b, sources.get(b.source, "Gatehouse"))
                     for b in client.bookings.select_related("session", "session__location")[:50]],
        "door_accesses": [(a, sources.get(a.source, "Gatehouse"))
                          for a in client.door_accesses.select_related("door")[:50]],
        "access_log": access_log_entries(client=client, limit=30, source_names=sources),
        "can_sync": request.user.has_perm(need.MEMBER_SYNC) and member_sync_integration(client) is not None,
    })


@staff_permission_required(need.MEMBER_SYNC)
@require_POST
def client_sync_now(request, client_id: int):
    client = get_object_or_404(Client.all_objects, pk=client_id)
    integration = client_sync_start(client=client)
    if integration is None:
        messages.error(request, "This client does not come from an integration that can sync one member.")
    else:
        messages.success(request, f"Sync of this member from {integration.name} started.")
    return redirect("staff:client", client_id=client.pk)


@staff_permission_required(need.ISSUES)
def sync_issues(request):
    """What needs attention: failing integrations with their cause, records waiting for a
    package (or tier, or location) with the fix, and open sync issues grouped by reason."""
    filters = StaffFilters(request.GET)
    integration = filters.record_id("integration")
    return filters_render(request, "staff/sync_issues.html", {
        "failing": [h for h in integrations_health() if h.status == "failing"
                    and integration in (None, h.integration.pk)],
        "pending": attention_pending(integration_id=integration),
        "groups": sync_issues_open_by_reason(integration_id=integration),
        "integrations": Integration.objects.all(), "selected": str(integration or ""),
        "member_sync": {i.pk for i in Integration.objects.all() if _offers_member_sync(i)},
    }, filters)


def _offers_member_sync(integration: Integration) -> bool:
    """Whether the integration's vendor can sync one member (a class fact: no secrets read)."""
    try:
        return connector_class(integration.kind).offers_client_sync
    except VendorError:
        return False


@staff_permission_required(need.ISSUES)
@require_POST
def sync_issue_act(request, issue_id: int):
    """Resolve an issue, or retry it (sync that member again when the vendor allows)."""
    issue = get_object_or_404(SyncIssue.objects.select_related("integration"), pk=issue_id)
    if request.POST.get("action") == "retry":
        one_member = bool(issue.record_key) and _offers_member_sync(issue.integration)
        if not request.user.has_perms([need.MEMBER_SYNC] if one_member else [need.MEMBER_SYNC, need.SYNC_NOW]):
            return refused()
        if one_member:
            async_task("integrations.tasks.sync_issue_retry_task", issue.pk, request.user.get_username(),
                       task_name=f"retry {issue.record_key}")
            messages.success(request, f"Retry of record {issue.record_key} queued; the issue closes "
                                      "when the record syncs.")
        else:
            async_task("integrations.tasks.sync_task", issue.integration_id, issue.sync_name, "manual")
            messages.success(request, f"{issue.sync_name} sync of {issue.integration} queued.")
    else:
        if not request.user.has_perm(need.RESOLVE):
            return refused()
        sync_issue_resolve(issue=issue, user=request.user.get_username())
        messages.success(request, "Issue resolved.")
    return redirect("staff:issues")
