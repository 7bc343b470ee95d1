"""The Kisi connector: the door system. Imports places, groups and locks, pushes access
(a reconciliation woken whenever a member system changes clients), and records unlock
events from the signed webhook, with polling as the fallback.
"""

import logging
import time

from django import forms
from django.conf import settings as django_settings

from integrations.connectors import Connector, SettingField, SyncSpec
from integrations.kisi.client import CALLS_PER_SECOND, IN_FLIGHT, KISI_URL, UNLOCK_EVENT, KisiClient
from integrations.kisi.records import UnlockEvent, parse_time
from integrations.kisi.syncs import AccessSync, DoorsSync, EventsSync, unlock_events_record
from integrations.pacing import CallPool

logger = logging.getLogger("gatehouse.kisi")


class KisiConnector(Connector):
    kind = "kisi"
    label = "Kisi"
    sandbox = "integrations.kisi.sandbox.KisiSandbox"
    demo = "integrations.kisi.demo.KisiDemo"
    webhook_signature_header = "X-Signature"
    webhook_secret_field = "webhook_secret"  # noqa: S105 - the field's name, not a secret
    settings_fields = [
        SettingField("api_key", forms.CharField(
            label="API key", help_text="Kisi > My account > API > Add API key."), secret=True),
        SettingField("webhook_secret", forms.CharField(
            label="Webhook signing secret", required=False,
            help_text="The secret of Kisi's webhook for lock.unlock events (optional: without it, "
                      "unlock events are only polled). The webhook address to paste into Kisi is shown on this "
                      "integration's page once it is saved."), secret=True),
        SettingField("reconcile_minutes", forms.IntegerField(
            label="Push access every (minutes)", min_value=1, initial=1,
            help_text="Changes from member systems are also pushed at once.")),
        SettingField("in_flight", forms.IntegerField(
            label="Kisi calls at once", required=False, min_value=1, max_value=64, initial=IN_FLIGHT,
            help_text=f"How many calls a push keeps in flight. More is faster (a first push makes two calls "
                      f"per member) until Kisi answers 429; then every call waits as long as Kisi asks. "
                      f"Never more than {CALLS_PER_SECOND:g} calls a second in all.")),
        SettingField("events_polling", forms.BooleanField(
            label="Poll unlock events", required=False, initial=True,
            help_text="The fallback for unlock events the webhook missed.")),
        SettingField("events_minutes", forms.IntegerField(
            label="Poll unlock events every (minutes)", min_value=1, initial=5)),
        SettingField("base_url", forms.URLField(
            label="API base URL", required=False, initial=KISI_URL, assume_scheme="https",
            help_text=f"Leave empty for {KISI_URL}; change it only to use a sandbox.")),
    ]
    syncs = [
        SyncSpec("doors", "Places, groups and locks", job=DoorsSync, default_minutes=60, initial=True),
        SyncSpec("access", "Access", job=AccessSync, default_minutes=1, initial=True,
                 interval_setting="reconcile_minutes"),
        SyncSpec("events", "Unlock events", job=EventsSync, default_minutes=5, interval_setting="events_minutes",
                 enabled_setting="events_polling"),
    ]
    access_sync = "access"
    http_options: dict = {}  # tests shorten backoff and sleeps here

    def call_pool(self) -> CallPool:
        """One pace and one shared wait for the callers of a run, as many as the in_flight setting."""
        return CallPool(rate=CALLS_PER_SECOND, in_flight=max(1, self.setting_int("in_flight", IN_FLIGHT)),
                        sleep=self.http_options.get("sleep", time.sleep))

    def client(self, **http_options) -> KisiClient:
        """The organisation's Kisi API (callers of one run pass the run's `pool=`)."""
        return KisiClient(api_key=self.secrets.get("api_key", ""),
                          base_url=self.settings.get("base_url") or KISI_URL,
                          contact=django_settings.DEFAULT_FROM_EMAIL, **{**self.http_options, **http_options})

    def test_connection(self) -> str:
        return f"{self.client().places_count()} place(s) in Kisi"

    def webhook_event(self, payload):
        event = UnlockEvent.from_api(payload)
        if not event.uuid or not event.type:
            raise ValueError("a Kisi event has a uuid and a type")
        return event.uuid, str(event.type)

    def webhook_event_time(self, payload):
        return parse_time(UnlockEvent.from_api(payload).created_at)

    def webhook_process(self, event) -> None:
        if event.event_type != UNLOCK_EVENT:
            logger.info("integration=%s kisi event %s of type %s not used", self.integration.pk,
                        event.event_id, event.event_type)
            return
        counts = unlock_events_record(integration=self.integration, events=[UnlockEvent.from_api(event.payload)])
        logger.info("integration=%s kisi event %s: %d door access(es) recorded", self.integration.pk,
                    event.event_id, counts.created)
