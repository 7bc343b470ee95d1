"""Momence keeps no members per location, so "Specific location" is not offered and
--location is refused rather than silently ignored."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from clients.models import Client
from integrations.models import SyncRun

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/integrations/integration/"


def test_location_is_refused_before_anything_runs(sandbox, integration, location):
    with pytest.raises(CommandError, match="Momence cannot limit a sync to a location"):
        call_command("integration", "sync", integration.name, "--initial", "--location", location.alt_id)
    assert not SyncRun.objects.exists() and not Client.objects.exists()


def test_the_admin_offers_no_location_and_names_none(sandbox, integration, location, admin_client, monkeypatch):
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)
    page = admin_client.post(CHANGELIST, {"action": "perform_initial_sync",
                                          "_selected_action": [integration.pk]}).content.decode()
    assert "Specific location" not in page and 'name="location"' not in page
    response = admin_client.post(CHANGELIST, {"action": "perform_initial_sync", "apply": "1", "scope": "one",
                                              "location": location.alt_id, "_selected_action": [integration.pk]},
                                 follow=True)
    content = response.content.decode()
    assert "Momence studio: initial sync started." in content and location.name not in content.split(
        "initial sync")[1][:40]
    assert all("location" not in run.options for run in SyncRun.objects.all())
