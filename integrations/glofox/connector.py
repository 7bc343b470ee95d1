"""The Glofox connector: settings, syncs, webhooks, the catalogue and check-ins."""

import logging

from django import forms

from clients.models import Client, Location
from integrations.connectors import CatalogueEntry, Connector, SettingField, SyncSpec
from integrations.errors import PermanentError
from integrations.glofox.changes import ChangesPolled
from integrations.glofox.checkins import CheckinsSync
from integrations.glofox.client import BASE_URL, GlofoxClient
from integrations.glofox.models import GlofoxConfiguration
from integrations.glofox.services import catalogue_entries
from integrations.glofox.syncs import BookingsSync, MembersSync, MemberSync
from integrations.glofox.webhooks import WebhookEvent, event_id
from integrations.models import Integration, SyncRun
from integrations.sync import SyncAlreadyRunning, sync_run

logger = logging.getLogger("gatehouse.glofox")

ONE_PER_ORGANISATION = ("Only one Glofox integration is allowed per organisation; add another "
                        "configuration to the existing one instead.")


class GlofoxConnector(ChangesPolled, Connector):
    kind = "glofox"
    label = "Glofox"
    sandbox = "integrations.glofox.sandbox.GlofoxSandbox"
    demo = "integrations.glofox.demo.GlofoxDemo"
    single_instance = True
    webhook_signature_header = "signature"
    webhook_secret_field = "webhook_secret"  # noqa: S105 - the field's name, not a secret
    checkin_sync = "checkins"
    offers_catalogue = True
    offers_client_sync = True
    admin_inlines = ["integrations.glofox.admin.GlofoxConfigurationInline"]
    settings_fields = [
        SettingField("base_url", forms.URLField(
            label="API base URL", initial=BASE_URL, assume_scheme="https", required=False,
            help_text=f"Leave empty for Glofox's production API ({BASE_URL}); change it for "
                      "staging or a sandbox.")),
        SettingField("api_key", forms.CharField(label="API key"), secret=True),
        SettingField("api_token", forms.CharField(label="API token"), secret=True),
        SettingField("webhook_secret", forms.CharField(
            label="Webhook secret", required=False,
            help_text="Glofox signs webhooks with it (header 'signature'). The webhook address to "
                      "paste into Glofox is shown on this integration's page once it is saved."), secret=True),
        SettingField("member_minutes", forms.IntegerField(
            label="Sync members every (minutes)", min_value=1, initial=1, required=False,
            help_text="Empty: every minute. Glofox webhooks also sync a member at once.")),
        SettingField("booking_minutes", forms.IntegerField(
            label="Sync bookings every (minutes)", min_value=1, initial=1, required=False,
            help_text="Empty: every minute.")),
    ]
    syncs = [
        SyncSpec("members", "Members and memberships", job=MembersSync, default_minutes=1, initial=True,
                 interval_setting="member_minutes"),
        SyncSpec("bookings", "Bookings", job=BookingsSync, default_minutes=1, initial=True,
                 interval_setting="booking_minutes"),
        SyncSpec("checkins", "Check-ins to Glofox", job=CheckinsSync, default_minutes=1),
        SyncSpec("member", "One member (from a webhook)", job=MemberSync, default_minutes=1, scheduled=False),
    ]
    initial_by_location = True  # a configuration maps a Glofox branch to its Kisi place's Location
    http_options: dict = {}  # tests shorten backoff and sleeping here

    def clean_settings(self, values):
        # The framework refuses a second one on save; say so on the form, before that.
        if self.integration.pk is None and Integration.objects.filter(kind=self.kind).exists():
            raise forms.ValidationError(ONE_PER_ORGANISATION)
        return values

    def client(self, **overrides) -> GlofoxClient:
        """The API client; `overrides` are VendorHTTP options (e.g. a short timeout for a page)."""
        return GlofoxClient(api_key=self.secrets["api_key"], api_token=self.secrets["api_token"],
                            base_url=self.settings.get("base_url") or BASE_URL,
                            **{**self.http_options, **overrides})

    def configurations(self) -> list[GlofoxConfiguration]:
        return list(GlofoxConfiguration.objects.filter(integration=self.integration).order_by("pk"))

    def initial_locations(self):
        """The Locations a configuration maps a Glofox branch to."""
        return Location.objects.filter(is_active=True, pk__in=[
            c.location_id for c in GlofoxConfiguration.objects.filter(integration=self.integration)
            .select_related("kisi_place") if c.location_id is not None])

    def test_connection(self) -> str:
        configurations = self.configurations()
        if not configurations:
            raise PermanentError("Add a configuration first: Glofox answers only for a Glofox Location ID.")
        client = self.client()
        told = [f"location {c.branch_id}: {len(client.memberships(branch=c.branch_id))} membership type(s)"
                for c in configurations]
        return "; ".join(told)

    def catalogue(self) -> list[CatalogueEntry]:
        client, entries = self.client(), {}
        for configuration in self.configurations():
            for entry in catalogue_entries(client.memberships(branch=configuration.branch_id)):
                entries.setdefault(entry.alt_id, entry)
        return list(entries.values())

    def client_sync(self, external_id: str) -> None:
        """Read one member now (the single-member sync webhooks use), at the branch of the
        configuration whose location is the client's home location, then the coming bookings."""
        home = Client.all_objects.filter(source=self.integration.source, external_id=external_id) \
            .values_list("home_location_id", flat=True).first()
        configurations = self.configurations()
        chosen = next((c for c in configurations if c.location_id == home), None) or \
            (configurations[0] if configurations else None)
        if chosen is None:
            raise PermanentError("Add a configuration first: Glofox answers only for a Glofox Location ID.")
        run = sync_run(integration=self.integration, sync_name="member", trigger=SyncRun.Trigger.MANUAL,
                       options={"branch_id": chosen.branch_id, "member_id": str(external_id)})
        if run.status != SyncRun.Status.SUCCEEDED:
            raise PermanentError(f"The member sync failed: {run.error}")
        try:  # their coming bookings: the branch's whole coming window, read again
            sync_run(integration=self.integration, sync_name="bookings", trigger=SyncRun.Trigger.MANUAL,
                     options={"window_rescan": True, "branch_id": chosen.branch_id})
        except SyncAlreadyRunning:
            logger.info("integration=%s bookings already syncing", self.integration.pk)

    # webhooks ------------------------------------------------------------------
    def webhook_event(self, payload):
        """Glofox's envelope has no event id: a repeat delivery is the same body, so the
        event id is the SHA-256 of the payload (keys sorted). It has no event time either
        (`data.modified` is the record's), so freshness is not judged (webhook_event_time
        stays None); a replayed event only makes the member be read again."""
        if not isinstance(payload, dict) or not isinstance(payload.get("event_type"), str) \
                or not payload["event_type"]:
            raise ValueError("the event has no event_type")
        if not isinstance(payload.get("data"), dict):
            raise ValueError("the event has no data object")
        return event_id(payload), payload["event_type"]

    def webhook_process(self, event) -> None:
        """Sync the member the event names at once; a booking event also syncs recent bookings."""
        hook = WebhookEvent.from_api(event.payload)
        if not hook.event_type.startswith(("MEMBER", "BOOKING")):
            logger.info("integration=%s glofox event %s ignored", self.integration.pk, hook.event_type)
            return
        if hook.branch_id and hook.member_id:
            try:
                sync_run(integration=self.integration, sync_name="member", trigger=SyncRun.Trigger.WEBHOOK,
                         options={"branch_id": hook.branch_id, "member_id": hook.member_id})
            except SyncAlreadyRunning:  # a sync of this member is reading it right now
                logger.info("integration=%s member %s already syncing", self.integration.pk, hook.member_id)
        if hook.event_type.startswith("BOOKING"):
            try:
                sync_run(integration=self.integration, sync_name="bookings", trigger=SyncRun.Trigger.WEBHOOK)
            except SyncAlreadyRunning:  # the running one, or the next minute's, reads it
                logger.info("integration=%s bookings already syncing", self.integration.pk)
