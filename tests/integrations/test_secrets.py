"""Secrets: encrypted at rest, never shown back, never logged, rotated under a new key."""

import logging

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from integrations.crypto import SecretDecryptError
from integrations.example.sandbox import API_KEY
from integrations.models import Integration
from integrations.services import integration_save
from integrations.sync import sync_run

pytestmark = pytest.mark.django_db


def raw_row(integration) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT settings, secrets_token FROM integrations_integration WHERE id = %s",
                       [integration.pk])
        return " ".join(str(value) for value in cursor.fetchone())


def test_stored_secret_is_unreadable_in_the_database(integration):
    row = raw_row(integration)
    assert API_KEY not in row and "whsec" not in row
    assert Integration.objects.get(pk=integration.pk).secrets()["api_key"] == API_KEY


def test_secret_is_absent_from_logs_of_a_sync(sandbox, integration, caplog):
    caplog.set_level(logging.DEBUG)
    sync_run(integration=integration, sync_name="members")
    assert "vendor=example method=GET path=/api/members" in caplog.text
    assert API_KEY not in caplog.text


def test_secret_is_absent_from_admin_pages(admin_client, integration):
    page = admin_client.get(f"/admin/integrations/integration/{integration.pk}/change/").content.decode()
    assert 'name="api_key"' in page
    assert API_KEY not in page and "whsec" not in page
    assert "Leave empty to keep the stored value" in page


def test_token_written_with_a_lost_key_raises_without_showing_it(integration, settings):
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(SecretDecryptError) as raised:
        Integration.objects.get(pk=integration.pk).secrets()
    assert integration.secrets_token not in str(raised.value)
    assert raised.value.__cause__ is None


def test_rotation_reencrypts_under_the_newest_key(integration, settings):
    old = settings.FIELD_ENCRYPTION_KEYS
    newest = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [newest, *old]
    call_command("rotate_secrets")
    settings.FIELD_ENCRYPTION_KEYS = [newest]
    assert Integration.objects.get(pk=integration.pk).secrets()["api_key"] == API_KEY


def test_empty_secret_on_save_keeps_the_stored_one(integration):
    integration_save(integration=integration, name="Renamed", settings=integration.settings,
                     secrets={"api_key": "", "webhook_secret": ""})
    saved = Integration.objects.get(pk=integration.pk)
    assert saved.name == "Renamed" and saved.secrets()["api_key"] == API_KEY
