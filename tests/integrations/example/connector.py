"""The example vendor's connector: settings, one members sync, webhooks."""

from datetime import date

from django import forms

from clients.records import ClientRecord
from clients.services import clients_upsert
from integrations.connectors import CatalogueEntry, Connector, CredentialResult, SettingField, SyncSpec
from integrations.errors import BadRecord
from integrations.sync import Counts, Page, SyncJob, sync_run
from tests.integrations.example.client import ExampleClient


def member_record(raw) -> ClientRecord:
    """A vendor member as a neutral client record (BadRecord when unusable)."""
    if not isinstance(raw, dict) or not raw.get("id"):
        raise BadRecord("The member has no id.")
    first_name = raw.get("first_name")
    if not isinstance(first_name, str) or not first_name.strip():
        raise BadRecord("The member has no first name.", key=str(raw["id"]))
    try:
        birth = date.fromisoformat(raw["birth"]) if raw.get("birth") else None
    except (TypeError, ValueError):
        raise BadRecord(f"Unreadable birth date {raw.get('birth')!r}.", key=str(raw["id"])) from None
    return ClientRecord(
        external_id=str(raw["id"]), first_name=first_name, last_name=raw.get("last_name") or "",
        email=raw.get("email") or "", date_of_birth=birth, is_active=bool(raw.get("active", True)),
        deleted=bool(raw.get("deleted")), alt_id=raw.get("number") or "",
    )


class MembersSync(SyncJob):
    def pages(self, cursor):
        client = self.connector.client()
        for page in client.members(after=cursor or 0, limit=self.options.get("limit", 100)):
            last = max((m.get("seq", 0) for m in page.members if isinstance(m, dict)), default=cursor or 0)
            yield Page(page.members, cursor=last, total=page.total)

    def map(self, raw):
        return member_record(raw)

    def apply(self, records):
        result = clients_upsert(source=self.connector.integration.source, records=records)
        self.changed_clients |= result.changed_client_ids
        return Counts(created=result.created, updated=result.updated,
                      unchanged=result.unchanged, skipped=result.skipped)


class ExampleConnector(Connector):
    kind = "example"
    label = "Example member system"
    sandbox = "tests.integrations.example.sandbox.ExampleSandbox"
    webhook_signature_header = "X-Example-Signature"
    webhook_secret_field = "webhook_secret"
    settings_fields = [
        SettingField("base_url", forms.URLField(label="Base URL", assume_scheme="https")),
        SettingField("api_key", forms.CharField(label="API key"), secret=True),
        SettingField("webhook_secret", forms.CharField(label="Webhook secret", required=False), secret=True),
        SettingField("member_minutes", forms.IntegerField(label="Sync members every (minutes)",
                                                          min_value=1, initial=5)),
    ]
    syncs = [SyncSpec("members", "Members", job=MembersSync, default_minutes=5, initial=True,
                      interval_setting="member_minutes")]
    offers_catalogue = True
    offers_client_sync = True
    offers_credential_check = True
    offers_member_token = True
    http_options: dict = {}  # tests shorten backoff here

    def client(self) -> ExampleClient:
        return ExampleClient(base_url=self.settings["base_url"], api_key=self.secrets["api_key"],
                             **self.http_options)

    def test_connection(self) -> str:
        return f"connected to {self.client().ping()}"

    def client_sync(self, external_id):
        record = member_record(self.client().member(external_id))
        clients_upsert(source=self.integration.source, records=[record])

    def catalogue(self):
        return [CatalogueEntry(alt_id=f"example_{p['code']}", name=p["name"], credits=p.get("credits"),
                               kind="credit_pack" if p.get("credits") else "membership")
                for p in self.client().products()]

    def credential_check(self, identifier, password):
        member = self.client().verify_member(login=identifier, password=password)
        if member is None:
            return CredentialResult(False, reason="wrong credentials")
        return CredentialResult(True, record=member_record(member))

    def member_token_check(self, token):
        member, why = self.client().verify_member_token(token=token)
        if member is None:
            return CredentialResult(False, reason=why)
        return CredentialResult(True, record=member_record(member))

    def webhook_event(self, payload):
        return payload["id"], payload["type"]

    def webhook_process(self, event):
        sync_run(integration=self.integration, sync_name="members", trigger="webhook")
