"""The example vendor's connector: what Settings > Integrations shows and what the engine runs.

A connector declares its settings fields (secret ones are encrypted), its syncs as SyncSpecs
naming their SyncJob, and the hooks it offers (catalogue, client sync, logins, webhooks).
It holds no sync logic itself: syncs.py does, through client.py and mapping.py.
"""

from django import forms

from clients.services import clients_upsert
from integrations.connectors import Connector, CredentialResult, SettingField, SyncSpec
from integrations.example.client import ExampleClient
from integrations.example.mapping import catalogue_entry, member_record
from integrations.example.syncs import MembersSync
from integrations.sync import sync_run


class ExampleConnector(Connector):
    kind = "example"
    label = "Example member system"
    hidden = True  # a template, not a vendor: offered only when DEBUG or INTEGRATION_SHOW_HIDDEN
    sandbox = "integrations.example.sandbox.ExampleSandbox"
    webhook_signature_header = "X-Example-Signature"
    webhook_secret_field = "webhook_secret"  # noqa: S105 - the field's name, not a secret
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
        return [catalogue_entry(product) for product in self.client().products()]

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

    # webhooks: the event's id (deduplicated by the framework) and type; processing re-reads
    # the changed members with the ordinary sync rather than trusting the event's body.
    def webhook_event(self, payload):
        return payload["id"], payload["type"]

    def webhook_process(self, event):
        sync_run(integration=self.integration, sync_name="members", trigger="webhook")
