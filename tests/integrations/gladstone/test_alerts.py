"""Gladstone's notification list hears about a broken sync once, and once when it heals."""

import pytest
from django.core import mail

from integrations.gladstone.sandbox import PASSWORD
from integrations.models import SyncRun
from integrations.services import integration_save
from integrations.tasks import sync_task
from tests.integrations.gladstone.conftest import SETTINGS, TOKEN_KEY, add_member

pytestmark = pytest.mark.django_db


def test_a_password_changed_at_gladstone_is_told_to_its_notification_list_once(gladstone, integration):
    add_member(gladstone)
    integration = integration_save(integration=integration, name=integration.name, settings=SETTINGS,
                                   secrets={"password": "changed-at-the-vendor", "member_token_key": TOKEN_KEY})
    for _ in range(4):
        sync_task(integration.pk, "members")
    [sent] = mail.outbox
    assert sent.to == SETTINGS["notification_emails"]
    assert "GetMemberChanges fault Client: the vendor refused the credentials" in sent.body
    assert "changed-at-the-vendor" not in sent.body and PASSWORD not in sent.body
    integration_save(integration=integration, name=integration.name, settings=SETTINGS,
                     secrets={"password": PASSWORD})
    sync_task(integration.pk, "members")
    assert SyncRun.objects.filter(integration=integration).first().status == SyncRun.Status.SUCCEEDED
    assert [m.subject for m in mail.outbox] == ["[Gatehouse] Gladstone: syncs are failing",
                                                "[Gatehouse] Recovered: Gladstone: syncs are failing"]
