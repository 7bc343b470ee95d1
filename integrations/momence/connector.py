"""The Momence connector: settings, syncs in, tag pushes and check-ins out, the catalogue."""

from functools import cached_property

from django import forms

from clients.models import Location
from integrations.connectors import CatalogueEntry, Connector, SettingField, SyncSpec
from integrations.errors import BadRecord, PermanentError
from integrations.momence import mapping, outbound
from integrations.momence.client import DEFAULT_BASE_URL, MomenceClient
from integrations.momence.syncs import (
    AppointmentsSync,
    BoughtMembershipsSync,
    MembershipsSync,
    MembersSync,
    SessionsSync,
    TagsSync,
)
from integrations.momence.tokens import DatabaseTokenStore, account_fingerprint


def _minutes(label: str, initial: int, **limits) -> forms.IntegerField:
    return forms.IntegerField(label=label, initial=initial, min_value=limits.get("min_value", 1),
                              max_value=limits.get("max_value"), required=False)


class MomenceConnector(Connector):
    kind = "momence"
    label = "Momence"
    sandbox = "integrations.momence.sandbox.MomenceSandbox"
    demo = "integrations.momence.demo.MomenceDemo"
    settings_fields = [
        SettingField("base_url", forms.URLField(label="API base URL", initial=DEFAULT_BASE_URL,
                                                assume_scheme="https")),
        SettingField("client_id", forms.CharField(label="Client ID"), secret=True),
        SettingField("client_secret", forms.CharField(label="Client secret"), secret=True),
        SettingField("username", forms.CharField(label="Staff login (email)"), secret=True),
        SettingField("password", forms.CharField(label="Staff password"), secret=True),
        SettingField("location", forms.ModelChoiceField(
            Location.objects.all(), label="Club location",
            help_text="Where Momence's sessions and appointments take place.")),
        SettingField("members_minutes", _minutes("Sync members and memberships every (minutes)", 15)),
        SettingField("sessions_minutes", _minutes("Sync sessions and appointments every (minutes)", 15)),
        SettingField("days_ahead", _minutes("Sync sessions and appointments this many days ahead", 14,
                                            max_value=90)),
        SettingField("memberships_per_run", _minutes("Members whose memberships to read per run", 200)),
        SettingField("checkin_minutes_before", _minutes(
            "Check in a door access this many minutes before a session starts", 60, min_value=0,
            max_value=240)),
        SettingField("push_tags", forms.BooleanField(label="Send Gatehouse's tag changes to Momence",
                                                     required=False, initial=True)),
        SettingField("check_in", forms.BooleanField(label="Check members in when they open a door",
                                                    required=False, initial=True)),
    ]
    syncs = [
        SyncSpec("tags", "Tags", job=TagsSync, default_minutes=60, initial=True),
        SyncSpec("members", "Members", job=MembersSync, default_minutes=15, initial=True,
                 interval_setting="members_minutes"),
        SyncSpec("memberships", "Membership catalogue", job=MembershipsSync, default_minutes=24 * 60,
                 initial=True),
        SyncSpec("bought-memberships", "Bought memberships", job=BoughtMembershipsSync, default_minutes=15,
                 initial=True, interval_setting="members_minutes"),
        SyncSpec("sessions", "Sessions and bookings", job=SessionsSync, default_minutes=15, initial=True,
                 interval_setting="sessions_minutes"),
        SyncSpec("appointments", "Appointments", job=AppointmentsSync, default_minutes=15, initial=True,
                 interval_setting="sessions_minutes"),
        SyncSpec("tag-push", "Tag changes to Momence", job=outbound.TagPushSync, default_minutes=1,
                 enabled_setting="push_tags"),
        SyncSpec("checkins", "Check-ins", job=outbound.CheckinsSync, default_minutes=5, enabled_setting="check_in"),
    ]
    checkin_sync = "checkins"
    offers_catalogue = True
    http_options: dict = {}  # tests shorten backoff here
    client_options: dict = {}  # tests give the client a clock here

    # settings ------------------------------------------------------------------
    def _number(self, name: str, default: int) -> int:
        value = self.settings.get(name)
        return int(value) if value not in (None, "") else default

    def days_ahead(self) -> int:
        return self._number("days_ahead", 14)

    def memberships_per_run(self) -> int:
        return self._number("memberships_per_run", 200)

    def checkin_minutes_before(self) -> int:
        return self._number("checkin_minutes_before", 60)

    def enabled(self, name: str) -> bool:
        return bool(self.settings.get(name, True))

    def location_id(self) -> int:
        if not self.settings.get("location"):
            raise PermanentError("Choose the club location of Momence's sessions in the settings.")
        return int(self.settings["location"])

    # the vendor ------------------------------------------------------------------
    @cached_property
    def _client(self) -> MomenceClient:
        base_url = self.settings.get("base_url") or DEFAULT_BASE_URL
        secrets = self.secrets
        account = account_fingerprint(base_url=base_url, client_id=secrets.get("client_id", ""),
                                      username=secrets.get("username", ""))
        return MomenceClient(
            base_url=base_url, client_id=secrets.get("client_id", ""),
            client_secret=secrets.get("client_secret", ""),
            username=secrets.get("username", ""), password=secrets.get("password", ""),
            store=DatabaseTokenStore(integration=self.integration, account=account),
            **self.client_options, **self.http_options,
        )

    def client(self) -> MomenceClient:
        """The integration's Momence client (one per connector, so one login per run at most)."""
        return self._client

    def test_connection(self) -> str:
        total = self.client().ping()
        return f"logged in; the host has {total if total is not None else 'some'} member(s)"

    def catalogue(self) -> list[CatalogueEntry]:
        entries = []
        for membership in self.client().memberships():
            try:
                entries.append(mapping.catalogue_entry(membership))
            except BadRecord:
                continue  # the memberships sync reports it as a SyncIssue
        return entries
