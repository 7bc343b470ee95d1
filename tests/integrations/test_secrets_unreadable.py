"""A secret the current FIELD_ENCRYPTION_KEYS cannot read is a state, not a crash.

Each test saves the example integration's secrets under the test key, then rotates that
key away (a fresh Fernet key only), as an operator who lost the key would.
"""

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.utils.html import escape

from integrations.crypto import SECRETS_UNREADABLE, secrets_encrypt
from integrations.example.sandbox import API_KEY
from integrations.models import Integration, SyncRun, WebhookEvent
from integrations.sync import sync_run
from tests.integrations.conftest import EXAMPLE_URL, WEBHOOK_SECRET

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/integrations/integration/"
UNREADABLE_HELP = "this secret cannot be read with the current keys; enter it again"


@pytest.fixture
def keys_lost(integration, settings):
    """The key the integration's secrets were written with is no longer configured."""
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    return integration


def change_url(integration) -> str:
    return f"{CHANGELIST}{integration.pk}/change/"


def form_data(**changes) -> dict:
    return {"name": "Example club", "is_active": "on", "base_url": EXAMPLE_URL, "api_key": "",
            "webhook_secret": "", "member_minutes": "5", **changes}


def test_the_change_form_loads_and_says_which_secrets_cannot_be_read(admin_client, keys_lost):
    response = admin_client.get(change_url(keys_lost))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count(UNREADABLE_HELP) == 2  # api_key and webhook_secret
    assert "a stored secret cannot be read with the current keys" in page  # the page says why
    assert "Leave empty to keep the stored value" not in page


def test_saving_a_new_value_replaces_it_and_keeps_what_can_be_read(admin_client, keys_lost):
    # The required key cannot be kept blind: the form asks for it.
    refused = admin_client.post(change_url(keys_lost), form_data(name="Renamed"))
    assert refused.status_code == 200 and "This field is required" in refused.content.decode()
    assert Integration.objects.get(pk=keys_lost.pk).name == "Example club"

    assert admin_client.post(change_url(keys_lost), form_data(api_key="new-key-5501")).status_code == 302
    saved = Integration.objects.get(pk=keys_lost.pk)
    stored = saved.stored_secrets()
    assert stored.values == {"api_key": "new-key-5501"} and set(stored.unreadable) == {"webhook_secret"}
    page = admin_client.get(change_url(saved)).content.decode()
    assert page.count(UNREADABLE_HELP) == 1 and "Leave empty to keep the stored value" in page

    # Now the webhook secret alone: the readable key is kept.
    assert admin_client.post(change_url(saved), form_data(webhook_secret="whsec-new-77")).status_code == 302
    saved = Integration.objects.get(pk=keys_lost.pk)
    assert saved.secrets_readable
    assert saved.secrets() == {"api_key": "new-key-5501", "webhook_secret": "whsec-new-77"}


def test_a_webhook_answers_503_without_a_traceback_and_stores_nothing(client, sandbox, keys_lost):
    body, headers = sandbox.webhook(WEBHOOK_SECRET, {"id": "evt-lost", "type": "member.updated"})
    response = client.post(f"/api/v1/webhooks/example/{keys_lost.pk}/", data=body,
                           content_type="application/json", headers=headers)
    assert response.status_code == 503
    text = response.content.decode()
    assert "Traceback" not in text and "SecretUnreadable" not in text and keys_lost.secrets_token not in text
    assert not WebhookEvent.objects.exists()


def test_test_connection_says_why_and_calls_no_vendor(admin_client, sandbox, keys_lost):
    response = admin_client.post(CHANGELIST, {"action": "test_connection", "_selected_action": [keys_lost.pk]},
                                 follow=True)
    assert response.status_code == 200
    assert escape(f"Example club: connection failed: {SECRETS_UNREADABLE}") in response.content.decode()
    assert sandbox.calls == []


def test_the_command_line_test_says_why(keys_lost):
    with pytest.raises(CommandError, match="cannot be read with the current keys"):
        call_command("integration", "test", "Example club")


def test_a_sync_fails_with_a_clear_error(sandbox, keys_lost):
    run = sync_run(integration=keys_lost, sync_name="members")
    assert run.status == SyncRun.Status.FAILED and SECRETS_UNREADABLE in run.error
    assert sandbox.calls == []


def test_the_integrations_list_and_the_staff_card_say_why(admin_client, keys_lost):
    assert "A secret cannot be read" in admin_client.get(CHANGELIST).content.decode()
    card = admin_client.get("/staff/").content.decode()
    assert "status-failing" in card
    assert "A stored secret cannot be read with the current keys; re-enter it in Settings &gt; Integrations" in card


def test_a_store_from_before_per_field_secrets_still_reads(integration, settings):
    Integration.objects.filter(pk=integration.pk).update(
        secrets_token=secrets_encrypt({"api_key": API_KEY, "webhook_secret": WEBHOOK_SECRET}))
    old = Integration.objects.get(pk=integration.pk)
    assert old.secrets() == {"api_key": API_KEY, "webhook_secret": WEBHOOK_SECRET}
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    # Unreadable as a whole: every secret field is one to enter again.
    stored = Integration.objects.get(pk=integration.pk).stored_secrets()
    assert stored.is_unreadable("api_key") and stored.is_unreadable("webhook_secret")


@pytest.mark.parametrize(("kind", "secrets"), [
    ("kisi", {"api_key": "k-1", "webhook_secret": "w-1"}),
    ("gladstone", {"password": "p-1"}),
    ("perfectgym", {"client_secret": "s-1"}),
    ("momence", {"client_id": "c-1", "client_secret": "s-1", "username": "u-1", "password": "p-1"}),
    ("glofox", {"api_key": "k-1", "api_token": "t-1", "webhook_secret": "w-1"}),
])
def test_every_vendors_change_form_loads_with_the_keys_lost(admin_client, settings, kind, secrets):
    integration = Integration(kind=kind, name=f"{kind} club", settings={"base_url": "https://vendor.test/"})
    integration.set_secrets(secrets)
    integration.save()
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    response = admin_client.get(change_url(integration))
    assert response.status_code == 200
    assert response.content.decode().count(UNREADABLE_HELP) == len(secrets)
