"""Settings > Integrations: add by type, edit exactly that type's fields, run and watch syncs.

Every list action is also a button on the integration's own page (clients.admin_buttons),
which tells its story: per sync the last run and its report, issues, waiting records, the
cause of a failure and the webhook address (integrations.story).
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Max, Q
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.module_loading import import_string
from django_q.tasks import async_task

from clients.admin_buttons import ButtonsAdmin, button_of
from clients.models import Location
from integrations import client_admin, runs_admin  # noqa: F401  (the client's button, the run logs)
from integrations.connectors import connector_class, connector_classes, connector_for
from integrations.errors import VendorError
from integrations.models import Integration, SyncRun
from integrations.scheduling import schedule_next_run
from integrations.services import integration_delete, integration_save, integration_webhook_token_rotate
from integrations.settings_form import settings_form_class
from integrations.story import integration_story, takes_webhooks, webhook_path
from packages.models import Package
from packages.services import packages_create_missing

SYNC_TASK = "integrations.tasks.sync_task"


class InitialSyncForm(forms.Form):
    """The choice the Perfect Gym seed describes: one location, or all of them.

    Offered only when every chosen integration can limit its initial sync to a location
    (Connector.initial_by_location), among the locations that carry each one's number.
    """

    scope = forms.ChoiceField(
        choices=[("one", "Specific location"), ("all", "All locations")], initial="one",
        widget=forms.RadioSelect,
    )
    location = forms.ModelChoiceField(Location.objects.none(), required=False, to_field_name="alt_id")

    def __init__(self, *args, connectors=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.by_location = bool(connectors) and all(c.initial_by_location for c in connectors)
        if not self.by_location:
            del self.fields["scope"], self.fields["location"]
            return
        locations = Location.objects.filter(is_active=True)
        for connector in connectors:
            locations = locations.filter(pk__in=connector.initial_locations().values("pk"))
        self.fields["location"].queryset = locations

    def clean(self):
        cleaned = super().clean()
        if self.by_location and cleaned.get("scope") == "one" and not cleaned.get("location"):
            raise ValidationError("Choose the location to start with.")
        return cleaned

    def chosen_location(self):
        """The location the sync is limited to, or None (all of them)."""
        if self.by_location and self.cleaned_data.get("scope") == "one":
            return self.cleaned_data.get("location")
        return None


class KindFilter(admin.SimpleListFilter):
    """The integration's type by its connector's label, never its slug."""

    title = "type"
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        labels = {kind: cls.label for kind, cls in connector_classes().items()}
        kinds = model_admin.get_queryset(request).values_list("kind", flat=True).distinct()
        return sorted(((k, labels.get(k, f"{k} (not installed)")) for k in kinds), key=lambda pair: pair[1])

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(Integration)
class IntegrationAdmin(ButtonsAdmin, admin.ModelAdmin):
    list_display = ["name", "kind_label", "is_active", "status", "last_sync", "next_run",
                    "open_issues", "runs_link"]
    list_filter = [KindFilter, "is_active"]
    search_fields = ["name"]
    actions = ["test_connection", "sync_now", "perform_initial_sync"]
    change_actions = ["perform_initial_sync_button", "sync_now_button", "test_connection_button",
                      "catalogue_button", "webhook_address_new_button"]
    change_form_template = "admin/integrations/integration/change_form.html"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            open_issue_count=Count("issues", filter=Q(issues__resolved_at__isnull=True), distinct=True),
            waiting_count=Count("pending_records", filter=Q(pending_records__client__deleted_at__isnull=True),
                                distinct=True),
            last_success=Max("runs__finished_at", filter=Q(runs__status=SyncRun.Status.SUCCEEDED)),
        )

    # the add flow: pick a type first, then exactly that type's fields ---------
    def _kind(self, request, obj):
        return obj.kind if obj is not None else request.GET.get("kind", "")

    def add_view(self, request, form_url="", extra_context=None):
        kind = request.GET.get("kind", "")
        if not self.has_add_permission(request):  # the type picker is the first page of adding
            raise PermissionDenied
        if kind not in connector_classes():
            show_hidden = settings.DEBUG or settings.INTEGRATION_SHOW_HIDDEN
            return TemplateResponse(request, "admin/integrations/integration/pick_kind.html", {
                **self.admin_site.each_context(request), "opts": self.model._meta,
                "title": "Add integration: choose its type",
                # Plain pairs: templates would call a class they are given.
                "connectors": sorted((c.label, c.kind) for c in connector_classes().values()
                                     if not c.hidden or show_hidden),
            })
        return super().add_view(request, form_url, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        integration = self.get_object(request, object_id)
        extra = {}
        if request.method == "GET" and integration is not None and not integration.secrets_readable:
            self.message_user(request, f"{integration}: a stored secret cannot be read with the current keys. "
                              "Enter it again below (its field says so); until then its syncs, webhooks "
                              "and Test connection cannot work.", messages.WARNING)
        if integration is not None:
            try:
                connector = connector_for(integration)
            except VendorError:
                connector = None
            if connector is not None:
                story = integration_story(integration=integration, connector=connector,
                                          site=request.build_absolute_uri("/").rstrip("/"))
                can_change = self.has_change_permission(request, integration)
                if story.webhook_secret_address and not can_change:
                    story.webhook_url = ""  # it carries a secret: for those who may change the integration
                extra = {"story": story, "can_sync": can_change}
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def response_add(self, request, obj, post_url_continue=None):
        """After adding, say where the vendor sends its webhooks (the page shows it too)."""
        response = super().response_add(request, obj, post_url_continue)
        try:
            webhooks = takes_webhooks(connector_class(obj.kind))
        except VendorError:
            webhooks = False
        if webhooks and connector_class(obj.kind).webhook_token_secret:
            # The address carries a secret: it stays on the page, out of the message (and its cookie).
            self.message_user(request, f"{obj}: paste the webhook address shown on its page into "
                              f"{connector_class(obj.kind).label}.", messages.INFO)
        elif webhooks:
            self.message_user(request, f"{obj}: paste this webhook address into {connector_class(obj.kind).label}: "
                              f"{request.build_absolute_uri(webhook_path(obj))}", messages.INFO)
        return response

    def get_form(self, request, obj=None, change=False, **kwargs):
        return settings_form_class(self._kind(request, obj))

    def get_fieldsets(self, request, obj=None):
        form = self.get_form(request, obj)
        vendor = [spec.name for spec in form.connector.form_fields()]
        return [(None, {"fields": ["name", "is_active"]}), (form.connector.label, {"fields": vendor})]

    def save_model(self, request, obj, form, change):
        saved = integration_save(
            integration=obj if change else None, kind=form.connector.kind,
            name=form.cleaned_data["name"], is_active=form.cleaned_data["is_active"],
            settings=form.settings_values(), secrets=form.secret_values(),
        )
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        integration_delete(integration=obj)

    def delete_queryset(self, request, queryset):
        for integration in queryset:
            integration_delete(integration=integration)

    def get_inlines(self, request, obj):
        return [import_string(path) for path in connector_class(self._kind(request, obj)).admin_inlines]

    # the vendor's catalogue: which products have packages ----------------------
    def get_urls(self):
        extra = [path("<int:integration_id>/catalogue/", self.admin_site.admin_view(self.catalogue_view),
                      name="integrations_integration_catalogue")]
        return extra + super().get_urls()

    def catalogue_view(self, request, integration_id):
        integration = self.get_object(request, str(integration_id))
        if integration is None or not self.has_view_permission(request, integration):
            raise PermissionDenied
        if request.method == "POST" and not request.user.has_perm("packages.add_package"):
            raise PermissionDenied  # before the vendor is asked anything
        connector = connector_for(integration)
        if not connector.offers_catalogue:
            raise Http404("This integration has no catalogue.")
        try:
            entries = connector.catalogue()
        except VendorError as error:
            self.message_user(request, f"Could not read the catalogue: {error}", messages.ERROR)
            entries = []
        if request.method == "POST":
            created = packages_create_missing(entries=entries)
            self.message_user(request, f"Created {len(created)} package(s): "
                              f"{', '.join(p.alt_id for p in created) or 'none missing'}.", messages.SUCCESS)
            return redirect(request.path)
        packages = dict(Package.objects.filter(alt_id__in=[e.alt_id for e in entries])
                        .values_list("alt_id", "pk"))
        return TemplateResponse(request, "admin/integrations/integration/catalogue.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "original": integration,
            "title": f"{integration}: catalogue",
            "rows": [(e, packages.get(e.alt_id)) for e in entries],
            "missing": sum(1 for e in entries if e.alt_id not in packages),
            "can_create": request.user.has_perm("packages.add_package"),
        })

    # list columns ------------------------------------------------------------
    @admin.display(description="Type", ordering="kind")
    def kind_label(self, obj):
        try:
            return connector_class(obj.kind).label
        except VendorError:
            return f"{obj.kind} (not installed)"

    @admin.display(description="Status")
    def status(self, obj):
        last = obj.runs.first()
        if not obj.is_active:
            return "Paused"
        if not obj.secrets_readable:
            return "A secret cannot be read"
        return last.get_status_display() if last else "Never run"

    @admin.display(description="Last successful sync", ordering="last_success")
    def last_sync(self, obj):
        return obj.last_success or "—"

    @admin.display(description="Next run")
    def next_run(self, obj):
        return schedule_next_run(integration_id=obj.pk) or "—"

    @admin.display(description="Needs attention", ordering="open_issue_count")
    def open_issues(self, obj):
        """Open issues and records waiting for a package (or tier, or location), each linked."""
        url = reverse("admin:integrations_syncissue_changelist")
        shown = format_html('<a href="{}?integration__id__exact={}&resolved=no">{} issue{}</a>', url, obj.pk,
                            obj.open_issue_count, "" if obj.open_issue_count == 1 else "s")
        if obj.waiting_count:
            page = reverse("admin:integrations_integration_change", args=[obj.pk])
            shown += format_html(' · <a href="{}#attention">{} waiting</a>', page, obj.waiting_count)
        return shown

    @admin.display(description="Pages")
    def runs_link(self, obj):
        url = reverse("admin:integrations_syncrun_changelist")
        link = format_html('<a href="{}?integration__id__exact={}">Sync runs</a>', url, obj.pk)
        try:
            has_catalogue = connector_class(obj.kind).offers_catalogue
        except VendorError:
            has_catalogue = False
        if has_catalogue:
            link += format_html(' · <a href="{}">Catalogue</a>',
                                reverse("admin:integrations_integration_catalogue", args=[obj.pk]))
        return link

    # actions: testing and syncing are part of editing the integration ---------
    @admin.action(description="Test connection", permissions=["change"])
    def test_connection(self, request, queryset):
        for integration in queryset:
            try:
                message = connector_for(integration).test_connection()
                self.message_user(request, f"{integration}: connection OK ({message}).", messages.SUCCESS)
            except VendorError as error:
                self.message_user(request, f"{integration}: connection failed: {error}", messages.ERROR)

    @admin.action(description="Sync now", permissions=["change"])
    def sync_now(self, request, queryset):
        """Queue every sync of each integration, or only the one a page's button names (POST `sync`)."""
        only = request.POST.get("sync", "")
        for integration in queryset.filter(is_active=True):
            specs = [spec for spec in connector_for(integration).syncs if not only or spec.name == only]
            if not specs:
                self.message_user(request, f"{integration} has no sync named {only!r}.", messages.ERROR)
                continue
            for spec in specs:
                async_task(SYNC_TASK, integration.pk, spec.name, SyncRun.Trigger.MANUAL,
                           task_name=f"{integration.name}: {spec.name} (sync now)")
            what = f"{specs[0].label} sync" if only else "sync"
            self.message_user(request, f"{integration}: {what} queued.", messages.SUCCESS)

    @admin.action(description="Perform initial sync", permissions=["change"])
    def perform_initial_sync(self, request, queryset):
        connectors = [connector_for(integration) for integration in queryset.filter(is_active=True)]
        form = InitialSyncForm(request.POST if "apply" in request.POST else None, connectors=connectors)
        if form.is_bound and form.is_valid():
            location = form.chosen_location()
            options = {"initial": True, **({"location": location.alt_id} if location else {})}
            for integration in queryset.filter(is_active=True):
                async_task("integrations.tasks.initial_sync_task", integration.pk, options,
                           task_name=f"{integration.name}: initial sync")
                # The message names a location only when the sync is limited to it.
                where = f" of {location.name}" if location else " of all locations" if form.by_location else ""
                self.message_user(request, f"{integration}: initial sync{where} started. Its report shows "
                                  "on the integration's page; the runs under Sync runs.", messages.SUCCESS)
            return None
        return TemplateResponse(request, "admin/integrations/integration/initial_sync.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta,
            "title": "Perform initial sync", "form": form, "integrations": queryset,
            "notes": [(c.integration, c.initial_sync_note) for c in connectors if c.initial_sync_note],
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        })

    # the same actions as buttons on the integration's page -----------------------
    test_connection_button = button_of(test_connection)
    sync_now_button = button_of(sync_now, label="Sync now (every sync)")
    perform_initial_sync_button = button_of(perform_initial_sync)

    def catalogue_button(self, request, obj):
        if not self.button_allowed(request, self.catalogue_button, obj):
            raise PermissionDenied
        return redirect("admin:integrations_integration_catalogue", obj.pk)

    catalogue_button.allowed_permissions = ["view"]  # the page asks "add package" before it creates any
    catalogue_button.label = "Catalogue"
    catalogue_button.methods = ("GET",)
    catalogue_button.button_type = "a"

    def webhook_address_new_button(self, request, obj):
        """A new secret token in the webhook address (vendors that cannot sign): the old address stops working."""
        if not self.button_allowed(request, self.webhook_address_new_button, obj):
            raise PermissionDenied
        if integration_webhook_token_rotate(integration=obj):
            self.message_user(request, f"{obj}: its webhook address is new (shown on this page); paste it into "
                              f"{connector_class(obj.kind).label}. The old address no longer works.", messages.SUCCESS)

    webhook_address_new_button.allowed_permissions = ["change"]
    webhook_address_new_button.label = "New webhook address"
    webhook_address_new_button.short_description = "Make a new webhook address; the old one stops working"
    webhook_address_new_button.methods = ("POST",)
    webhook_address_new_button.button_type = "form"

    def button_shown(self, request, name, obj):
        try:
            connector = connector_class(obj.kind)
        except VendorError:
            return False
        if name == "catalogue_button":
            return connector.offers_catalogue
        if name == "webhook_address_new_button":
            return bool(connector.webhook_token_secret)
        return obj.is_active or name == "test_connection_button"

