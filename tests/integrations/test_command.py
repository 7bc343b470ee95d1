"""`manage.py integration add|list|test|sync|audit` for scripted setup and runs."""

import pytest
from django.core.management import CommandError, call_command

from clients.models import Client
from integrations.example.sandbox import API_KEY
from integrations.models import Integration
from tests.integrations.conftest import EXAMPLE_URL

pytestmark = pytest.mark.django_db


def test_add_then_list(capsys, monkeypatch):
    monkeypatch.setenv("EXAMPLE_KEY", API_KEY)
    call_command("integration", "add", "example", "Scripted", "--set", f"base_url={EXAMPLE_URL}",
                 "--set", "api_key=@EXAMPLE_KEY", "--set", "member_minutes=3")
    integration = Integration.objects.get(name="Scripted")
    assert integration.secrets()["api_key"] == API_KEY
    call_command("integration", "list")
    out = capsys.readouterr().out
    assert "Scripted" in out and "never run" in out and API_KEY not in out


def test_add_with_invalid_settings_fails_with_the_reason():
    with pytest.raises(CommandError, match="base_url"):
        call_command("integration", "add", "example", "Bad", "--set", "base_url=not a url",
                     "--set", "api_key=x", "--set", "member_minutes=3")


def test_sync_ends_with_a_summary_line(capsys, sandbox, integration):
    call_command("integration", "sync", integration.name)
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1] == "members: succeeded; created 5, updated 0, unchanged 0, skipped 0, failed 0"
    assert Client.objects.count() == 5


def test_failed_sync_exits_non_zero(sandbox, integration):
    sandbox.inject(status=500, times=20)
    with pytest.raises(CommandError, match="A sync failed"):
        call_command("integration", "sync", integration.name)


def test_test_reports_connection(capsys, sandbox, integration):
    call_command("integration", "test", integration.name)
    assert "Connection OK: connected to Example Club" in capsys.readouterr().out


def test_unknown_integration_is_an_error():
    with pytest.raises(CommandError, match="No integration named"):
        call_command("integration", "sync", "nope")
