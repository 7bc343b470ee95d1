"""Gladstone Plus2: members and subscriptions (with tiers), door accesses, the daily
SubTypeID audit, and the two app logins (Gladstone credentials, encrypted member id)."""

from functools import cached_property

from django.utils import timezone

from clients.models import Client, Location
from clients.records import ClientRecord
from integrations.connectors import CatalogueEntry, Connector, CredentialResult, SyncSpec
from integrations.errors import BadRecord, PermanentError
from integrations.gladstone.audit import subtype_audit
from integrations.gladstone.changes import ChangesPolled
from integrations.gladstone.client import GladstoneClient
from integrations.gladstone.contract import NO_MEMBER_LIST
from integrations.gladstone.fields import SETTINGS_FIELDS
from integrations.gladstone.lookups import Lookups, package_index_load
from integrations.gladstone.mapping import (
    MemberRules,
    PackageIndex,
    catalogue_entries,
    comma_list,
    flag,
    is_under_age,
    login_id_kind,
    member_record,
)
from integrations.gladstone.services import member_token_use
from integrations.gladstone.syncs import AccessesSync, MemberFetch, MembersSync
from integrations.gladstone.tokens import TokenRefused, member_token_expiry, member_token_read
from integrations.sync import records_apply


class GladstoneConnector(ChangesPolled, Connector):
    kind = "gladstone"
    label = "Gladstone Plus2"
    sandbox = "integrations.gladstone.sandbox.GladstoneSandbox"
    demo = "integrations.gladstone.demo.GladstoneDemo"
    settings_fields = SETTINGS_FIELDS
    syncs = [
        # Clients first: the door accesses need them (an initial sync runs them in this order).
        SyncSpec("members", "Members and subscriptions", job=MembersSync, default_minutes=5, initial=True,
                 interval_setting="sync_minutes"),
        SyncSpec("accesses", "Door accesses", job=AccessesSync, default_minutes=5, initial=True,
                 interval_setting="sync_minutes"),
    ]
    initial_by_location = True  # a Location's alt id is its SiteID
    initial_sync_note = NO_MEMBER_LIST
    audit_minutes = 24 * 60
    offers_credential_check = True
    offers_member_token = True
    offers_catalogue = True
    offers_client_sync = True
    http_options: dict = {}  # tests shorten the backoff here

    def client(self) -> GladstoneClient:
        return GladstoneClient(
            base_url=self.settings["base_url"],
            app_name=self.settings["app_name"],
            username=self.settings["username"],
            password=self.secrets["password"],
            **self.http_options,
        )

    @cached_property
    def lookups(self) -> Lookups:
        return Lookups()

    @cached_property
    def member_rules(self) -> MemberRules:
        return MemberRules(
            active_statuses=frozenset(s.casefold() for s in comma_list(self.settings.get("active_statuses"))),
            delete_on_is_deleted=bool(self.settings.get("delete_on_is_deleted")),
            minimum_age=self.settings.get("minimum_age"),
        )

    # syncs and audit -------------------------------------------------------------
    def test_connection(self) -> str:
        groups = self.settings.get("subscription_type_groups") or []
        types = self.client().subscription_types(group_ids=groups)
        return f"{len(types)} subscription type(s) in {', '.join(groups) or 'no groups'}"

    def initial_locations(self):
        """Every active Location: its alt id is the Gladstone SiteID."""
        return Location.objects.filter(is_active=True)

    def audit(self, run) -> None:
        subtype_audit(connector=self, run=run)

    def client_sync(self, external_id: str) -> None:
        """Read one member and their subscriptions now, and write them (the seed's rules apply)."""
        client = self.client()
        member = client.member(member_id=external_id)
        subscriptions = [] if member is None or flag(member.is_deleted) else \
            client.member_subscriptions(member_id=external_id)
        records_apply(job=self.sync_job("members", {}), raws=[MemberFetch(external_id, member, subscriptions)])

    def pending_package(self, wanted: str, packages) -> str | None:
        """A waiting subscription's package by the tier rule (PTPK02 -> PTPK01 or PTPK)."""
        return PackageIndex(packages).package_alt_id(wanted)

    def catalogue(self) -> list[CatalogueEntry]:
        groups = self.settings.get("subscription_type_groups") or []
        if not groups:
            raise PermanentError("Set the SubscriptionTypeGroupIDs to see Gladstone's subscription types.")
        return catalogue_entries(self.client().subscription_types(group_ids=groups), package_index_load())

    # logins --------------------------------------------------------------------
    def credential_check(self, identifier: str, password: str) -> CredentialResult:
        """CheckMemberLogin with the configured validation type, then the member's record."""
        if not self.integration.is_active:
            return CredentialResult(ok=False, reason="the Gladstone integration is inactive")
        identifier = (identifier or "").strip()
        if not identifier or not password:
            return CredentialResult(ok=False, reason="empty identifier or password")
        client = self.client()
        member_id = client.check_member_login(
            login_id=login_id_kind(identifier),
            id_value=identifier,
            validation_type=self.settings.get("validation_type", "Password"),
            validation_value=password,
        )
        if not member_id:
            return CredentialResult(ok=False, reason="Gladstone refused the credentials")
        member = client.member(member_id=member_id)
        if member is None or flag(member.is_deleted):
            return CredentialResult(ok=False, reason=f"member {member_id} is missing or deleted in Gladstone")
        try:
            record = member_record(member, rules=self.member_rules, sites=self.lookups.sites)
        except BadRecord as error:
            return CredentialResult(ok=False, reason=f"member {member_id} cannot be read: {error.reason}")
        if self._not_created(record):
            return CredentialResult(
                ok=False, reason=f"member {member_id} is inactive or under the minimum age and not a client"
            )
        return CredentialResult(ok=True, record=record)

    def _not_created(self, record: ClientRecord) -> bool:
        """The member sync would not create this client (inactive, or under the minimum age)
        and it does not exist: the login must not create it either."""
        young = is_under_age(record.date_of_birth, self.member_rules.minimum_age, timezone.localdate())
        return (young or not record.is_active) and not Client.all_objects.filter(
            source=self.integration.source, external_id=record.external_id
        ).exists()

    def member_token_check(self, token: str) -> CredentialResult:
        """An encrypted member-id token from a partner app (see docs/member-token.md)."""
        if not self.integration.is_active:
            return CredentialResult(ok=False, reason="the Gladstone integration is inactive")
        key = self.secrets.get("member_token_key")
        if not key:
            return CredentialResult(ok=False, reason="no member token key is configured")
        try:
            read = member_token_read(key=key, token=token)
        except TokenRefused as refused:
            return CredentialResult(ok=False, reason=f"member token refused: {refused}")
        if not member_token_use(
            integration=self.integration, nonce=read.nonce, expires_at=member_token_expiry(read)
        ):
            return CredentialResult(ok=False, reason="member token refused: already used")
        client = Client.objects.filter(source=self.integration.source, alt_id=read.member_id).first()
        if client is None:
            return CredentialResult(ok=False, reason=f"no client has the alt ID {read.member_id}")
        return CredentialResult(
            ok=True,
            record=ClientRecord(
                external_id=client.external_id or read.member_id,
                first_name=client.first_name,
                last_name=client.last_name,
                email=client.email,
                phone=client.phone,
                date_of_birth=client.date_of_birth,
                home_location_id=client.home_location_id,
                is_active=client.is_active,
                alt_id=client.alt_id,
            ),
        )
