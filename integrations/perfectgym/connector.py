"""The Perfect Gym connector: settings, the client and access syncs, webhooks that wake
them, login fallback, catalogue."""

import logging

from django import forms

from clients.models import IdentityType
from clients.services import identity_type_ensure
from integrations.connectors import CatalogueEntry, Connector, CredentialResult, SettingField, SyncSpec
from integrations.errors import BadRecord
from integrations.perfectgym.changes import ChangesPolled
from integrations.perfectgym.client import BusinessError, PerfectGymClient
from integrations.perfectgym.clubs import CLUB_FIELD, KIND, club_field_register, clubs_load, locations_with_club
from integrations.perfectgym.mapping import member_record
from integrations.perfectgym.syncs import ContractsSync, MemberProductsSync, MembersSync, VisitsSync
from integrations.perfectgym.webhooks import delivery_id, event_type_of, syncs_woken
from integrations.sync import records_apply
from integrations.wakes import sync_wake

logger = logging.getLogger("gatehouse.perfectgym")

CUSTOMER_NUMBER = "Perfect Gym Customer Number"
MEMBER_DATA = {"interval_setting": "member_minutes", "enabled_setting": "sync_members"}


class PerfectGymConnector(ChangesPolled, Connector):
    kind = KIND
    label = "Perfect Gym"
    sandbox = "integrations.perfectgym.sandbox.PerfectGymSandbox"
    demo = "integrations.perfectgym.demo.PerfectGymDemo"
    location_number_key = CLUB_FIELD  # contracts of a club no location carries wait for its number
    initial_by_location = True
    # Perfect Gym cannot sign its webhooks: their address carries this secret (integrations.webhooks).
    webhook_token_secret = "webhook_token"  # noqa: S105 - the secret's name, not a secret
    settings_fields = [
        SettingField("base_url", forms.URLField(
            label="Base URL", assume_scheme="https",
            help_text="Your Perfect Gym instance up to and including /Api/v2.2/, "
                      "e.g. https://yourclub.perfectgym.com/Api/v2.2/")),
        SettingField("client_id", forms.CharField(
            label="Client ID", help_text="The Perfect Gym API user created for Gatehouse.")),
        SettingField("client_secret", forms.CharField(label="Client Secret"), secret=True),
        SettingField("identity_type", forms.ModelChoiceField(
            IdentityType.objects.filter(is_active=True), required=False,
            label="Identity for the customer number",
            help_text="Where each client's Perfect Gym customer number is kept.")),
        SettingField("create_identity_type", forms.BooleanField(
            required=False, label=f"Create the “{CUSTOMER_NUMBER}” identity",
            help_text="Tick instead of choosing one: a Third-party ID, one per client, changeable any day.")),
        SettingField("sync_members", forms.BooleanField(
            required=False, initial=True, label="Sync member data",
            help_text="Members, their contracts and member products (add-ons).")),
        SettingField("member_minutes", forms.IntegerField(
            label="Sync member data every (minutes)", min_value=1, initial=1,
            help_text="Perfect Gym's webhooks (the address on this integration's page) also wake "
                      "the member, contract and visit syncs at once.")),
        SettingField("sync_swipes", forms.BooleanField(
            required=False, initial=True, label="Sync swipes",
            help_text="Club visits become door accesses; each location needs a door record.")),
        SettingField("swipe_minutes", forms.IntegerField(
            label="Sync swipes every (minutes)", min_value=1, initial=5)),
        SettingField("attendance_minutes", forms.IntegerField(
            label="Attended when entering up to (minutes) before a class", min_value=0, initial=30,
            help_text="A visit marks the client's booking attended from this long before the class "
                      "starts until it ends.")),
    ]
    syncs = [
        SyncSpec("members", "Members", job=MembersSync, default_minutes=1, initial=True, **MEMBER_DATA),
        SyncSpec("contracts", "Contracts", job=ContractsSync, default_minutes=1, initial=True, **MEMBER_DATA),
        SyncSpec("member_products", "Member products", job=MemberProductsSync, default_minutes=1, initial=True,
                 **MEMBER_DATA),
        SyncSpec("visits", "Club visits (swipes)", job=VisitsSync, default_minutes=5,
                 interval_setting="swipe_minutes", enabled_setting="sync_swipes"),
    ]
    offers_credential_check = True
    offers_client_sync = True
    offers_catalogue = True
    http_options: dict = {}  # tests shorten the backoff here

    @classmethod
    def on_ready(cls) -> None:
        club_field_register()

    def clean_settings(self, values):
        if values.get("create_identity_type") and not values.get("identity_type"):
            values["identity_type"] = identity_type_ensure(
                display_name=CUSTOMER_NUMBER, kind=IdentityType.Kind.THIRD_PARTY_ID,
                max_per_client=1, min_days_between_changes=0,
            )
        values["create_identity_type"] = False  # a one-off request, not a setting
        if not values.get("identity_type"):
            raise forms.ValidationError(f"Choose the identity for the customer number, or tick "
                                        f"“Create the “{CUSTOMER_NUMBER}” identity”.")
        return values

    def client(self) -> PerfectGymClient:
        return PerfectGymClient(base_url=self.settings["base_url"], client_id=self.settings["client_id"],
                                client_secret=self.secrets["client_secret"], **self.http_options)

    def test_connection(self) -> str:
        clubs = self.client().rows("Clubs", filter="isDeleted eq false")
        names = ", ".join(str(c.name) for c in clubs[:5]) + (", ..." if len(clubs) > 5 else "")
        return f"{len(clubs)} club(s): {names}"

    def initial_locations(self):
        """Locations with a Perfect Gym club number."""
        return locations_with_club()

    def credential_check(self, identifier: str, password: str) -> CredentialResult:
        """Ask Perfect Gym about an email (or member number) and password; on Success return
        the member, fetched by id, as a ClientRecord. A vendor outage raises VendorError."""
        client = self.client()
        identifier = identifier.strip()
        try:
            if "@" in identifier:
                answer = client.verify_member_credentials(email=identifier, password=password)
            else:
                answer = client.verify_credentials(login=identifier, password=password)
        except BusinessError as error:
            return CredentialResult(ok=False, reason=f"Perfect Gym refused the check: {error.code}")
        if answer.status != "Success":
            return CredentialResult(ok=False, reason=answer.status)
        member = client.entity("Members", answer.member_id) if answer.member_id else None
        if member is None or member.deleted:
            return CredentialResult(ok=False, reason="Success, but Perfect Gym has no such member")
        try:
            record = member_record(member, clubs=clubs_load(),
                                   identity_type_id=self.settings.get("identity_type"))
        except BadRecord as error:
            return CredentialResult(ok=False, reason=f"Unusable member record: {error.reason}")
        return CredentialResult(ok=True, record=record)

    def client_sync(self, external_id: str) -> None:
        """Read one member, their contracts and member products now, and write them."""
        member_id = int(external_id)
        for sync_name, entity_set, field in (("members", "Members", "id"), ("contracts", "Contracts", "memberId"),
                                             ("member_products", "MemberProducts", "memberId")):
            job = self.sync_job(sync_name, {})
            job.start()
            records_apply(job=job, raws=job.client.rows(entity_set, filter=f"{field} eq {member_id}"))

    # webhooks ------------------------------------------------------------------
    def webhook_event(self, payload):
        """(a fresh id per delivery, the event's name); the body is read for its name only
        (integrations.perfectgym.webhooks)."""
        return delivery_id(), event_type_of(payload) or "unnamed"

    def webhook_process(self, event) -> None:
        """Wake the syncs the event's type names (once per burst); they read Perfect Gym by
        version, so nothing in the body is taken as data."""
        specs = {spec.name: spec for spec in self.syncs}
        for sync_name in syncs_woken(event.event_type):
            if self.sync_interval(specs[sync_name]) is None:  # switched off in the settings
                continue
            queued = sync_wake(integration=self.integration, sync_name=sync_name,
                               why=f"woken by a {event.event_type} webhook")
            logger.info("integration=%s %s webhook: %s %s", self.integration.pk, event.event_type, sync_name,
                        "woken" if queued else "already woken")
        if not syncs_woken(event.event_type):
            logger.info("integration=%s perfect gym event %r not used", self.integration.pk, event.event_type)

    def catalogue(self) -> list[CatalogueEntry]:
        """Every payment plan (payment_plan_<id>) and product (product_<id>) Perfect Gym offers."""
        client = self.client()
        entries = []
        for plan in client.rows("PaymentPlans", filter="isDeleted eq false"):
            every = ", ".join(f"{n} {unit}" for unit, n in (("months", plan.interval_months),
                                                            ("days", plan.interval_days)) if n)
            detail = [f"Payment plan {plan.id}", f"every {every}" if every else "",
                      "add-on" if plan.additional else "", "" if plan.active else "inactive"]
            entries.append(CatalogueEntry(alt_id=f"payment_plan_{plan.id}", name=plan.name or f"Payment plan {plan.id}",
                                          detail=" · ".join(d for d in detail if d)))
        for product in client.rows("Products"):
            if product.deleted:
                continue
            entries.append(CatalogueEntry(alt_id=f"product_{product.id}", name=product.name or f"Product {product.id}",
                                          detail=f"Product {product.id} · {product.product_type or ''}"))
        return entries
