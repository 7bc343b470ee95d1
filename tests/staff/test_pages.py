"""Staff pages: health cards, the client page, sync issues; login and staff required."""

import pytest
from django.http import HttpRequest
from django_q.conf import Conf

from clients.models import Client
from integrations.models import SyncIssue
from integrations.sync import sync_run
from tests.factories import ClientIdentityFactory, ClientPackageFactory, IdentityTypeFactory

pytestmark = pytest.mark.django_db


def test_pages_need_a_staff_login(client, django_user_model):
    assert client.get("/staff/").status_code == 302
    django_user_model.objects.create_user("member", password="pw-Member-123")
    # django-axes counts every password login, so authenticate() needs a request.
    assert client.login(request=HttpRequest(), username="member", password="pw-Member-123")
    assert client.get("/staff/").status_code == 302


def test_dashboard_card_shows_health_and_chart(admin_client, sandbox, integration):
    sync_run(integration=integration, sync_name="members")
    sandbox.inject(status=500, times=10)
    sync_run(integration=integration, sync_name="members")
    page = admin_client.get("/staff/").content.decode()
    assert "Example club" in page and "Example member system" in page
    assert "status-failing" in page and "<svg" in page and "5 synced" in page
    assert "Errors, last 24 h" in page


def test_paused_integration_says_so(admin_client, integration):
    integration.is_active = False
    integration.save()
    assert "status-paused" in admin_client.get("/staff/").content.decode()


def test_client_page_shows_packages_identities_and_sources(admin_client, sandbox, integration):
    sync_run(integration=integration, sync_name="members")
    client = Client.objects.get(external_id="m1")
    ClientPackageFactory(client=client, package__name="Gold", credits_remaining=4)
    ClientIdentityFactory(client=client, identity_type=IdentityTypeFactory(display_name="Card"), value="C-991")
    page = admin_client.get(f"/staff/clients/{client.pk}/").content.decode()
    assert "First1" in page and "from <strong>Example club</strong>" in page
    assert "Gold" in page and "Card: C-991" in page


def test_client_search(admin_client, sandbox, integration):
    sync_run(integration=integration, sync_name="members")
    page = admin_client.get("/staff/clients/?q=m3@example.com").content.decode()
    assert "First3" in page and "First2" not in page


def test_issues_grouped_by_reason_and_resolved(admin_client, sandbox, integration):
    sandbox.inject(malformed=True)
    sync_run(integration=integration, sync_name="members")
    page = admin_client.get("/staff/issues/").content.decode()
    assert "The member has no first name." in page and "(1)" in page
    issue = SyncIssue.objects.get()
    admin_client.post(f"/staff/issues/{issue.pk}/", {"action": "resolve"})
    issue.refresh_from_db()
    assert issue.resolved_at is not None
    assert "No open issues" in admin_client.get("/staff/issues/").content.decode()


def test_issue_retry_queues_the_sync(admin_client, sandbox, integration, monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", True)
    sandbox.inject(malformed=True)
    sync_run(integration=integration, sync_name="members")
    sandbox.member_put("m0", first_name="Fixed")
    issue = SyncIssue.objects.get()
    admin_client.post(f"/staff/issues/{issue.pk}/", {"action": "retry"})
    assert Client.objects.get(external_id="m0").first_name == "Fixed"


def test_client_page_shows_access_decisions_with_reasons(admin_client):
    from django.utils import timezone

    from accessctl.models import UnlockAttempt
    from accessctl.services import DoorEntry, door_accesses_record
    from tests.factories import ClientFactory, DoorFactory

    client, door = ClientFactory(first_name="Ada"), DoorFactory(title="Front door")
    UnlockAttempt.objects.create(client=client, door=door, idempotency_key="k1", attempted_at=timezone.now(),
                                 outcome="refused", reason="You are 420 m from the door.")
    door_accesses_record(source="kisi-9", entries=[DoorEntry(client.pk, door, timezone.now(), True, "u-1")])
    page = admin_client.get(f"/staff/clients/{client.pk}/").content.decode()
    assert "You are 420 m from the door." in page and "Refused" in page
    assert "Entered" in page and "Reported by kisi-9" in page


def test_live_access_log_answers_only_newer_rows(admin_client):
    from datetime import timedelta

    from django.utils import timezone

    from accessctl.services import DoorEntry, door_accesses_record
    from tests.factories import ClientFactory, DoorFactory

    client, door, now = ClientFactory(first_name="Lin"), DoorFactory(), timezone.now()
    door_accesses_record(source="pg-1", entries=[DoorEntry(client.pk, door, now - timedelta(minutes=5), True, "v1")])
    page = admin_client.get("/staff/access-log/").content.decode()
    assert "access_log.js" in page and "Lin" in page
    door_accesses_record(source="pg-1", entries=[DoorEntry(client.pk, door, now, True, "v2")])
    newer = admin_client.get("/staff/access-log/", {"partial": "1", "after": (now - timedelta(minutes=1)).isoformat()})
    assert newer.content.decode().count("<tr") == 1 and "<html" not in newer.content.decode()
