"""Settings > Integrations in the admin: add by type, edit, actions, runs and issues."""

import pytest
from django_q.conf import Conf

from clients.models import Client
from integrations.example.sandbox import API_KEY
from integrations.models import Integration, SyncIssue, SyncRun
from tests.integrations.conftest import EXAMPLE_URL

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/integrations/integration/"


@pytest.fixture
def tasks_inline(monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", True)


def test_add_starts_by_picking_the_type(admin_client, settings):
    settings.INTEGRATION_SHOW_HIDDEN = True
    page = admin_client.get(CHANGELIST + "add/").content.decode()
    assert "choose its type" in page and "?kind=example" in page and "Example member system" in page


def test_the_example_vendor_is_left_out_of_the_type_list_unless_debug_or_asked(admin_client, settings):
    page = admin_client.get(CHANGELIST + "add/").content.decode()
    assert "?kind=perfectgym" in page and "?kind=example" not in page and "Example member system" not in page
    settings.DEBUG = True
    assert "?kind=example" in admin_client.get(CHANGELIST + "add/").content.decode()
    # a hidden type is registered all the same: adding it by kind works
    assert "API key" in admin_client.get(CHANGELIST + "add/?kind=example").content.decode()


def test_add_form_shows_exactly_the_types_fields(admin_client):
    page = admin_client.get(CHANGELIST + "add/?kind=example").content.decode()
    for field in ("name", "is_active", "base_url", "api_key", "webhook_secret", "member_minutes"):
        assert f'name="{field}"' in page
    assert 'type="password"' in page


def test_adding_through_the_admin_stores_settings_secrets_and_schedule(admin_client):
    response = admin_client.post(CHANGELIST + "add/?kind=example", {
        "name": "Club API", "is_active": "on", "base_url": EXAMPLE_URL, "api_key": API_KEY,
        "webhook_secret": "", "member_minutes": "7",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    integration = Integration.objects.get(name="Club API")
    assert integration.kind == "example" and integration.settings["member_minutes"] == 7
    assert integration.secrets() == {"api_key": API_KEY}
    assert integration.settings.get("api_key") is None


def test_missing_required_secret_is_an_error_on_add(admin_client):
    response = admin_client.post(CHANGELIST + "add/?kind=example", {
        "name": "No key", "base_url": EXAMPLE_URL, "member_minutes": "5",
    })
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    assert not Integration.objects.exists()


def test_editing_with_empty_secret_keeps_it(admin_client, integration):
    response = admin_client.post(f"{CHANGELIST}{integration.pk}/change/", {
        "name": "Renamed", "is_active": "on", "base_url": EXAMPLE_URL, "api_key": "",
        "webhook_secret": "", "member_minutes": "5",
    })
    assert response.status_code == 302
    integration.refresh_from_db()
    assert integration.name == "Renamed" and integration.secrets()["api_key"] == API_KEY


def test_list_shows_status_last_sync_next_run_and_issues(admin_client, sandbox, integration, tasks_inline):
    admin_client.post(CHANGELIST, {"action": "sync_now", "_selected_action": [integration.pk]})
    page = admin_client.get(CHANGELIST).content.decode()
    assert "Succeeded" in page and "Sync runs" in page
    assert Client.objects.count() == 5


def test_test_connection_action_reports_success_and_failure(admin_client, sandbox, integration):
    page = admin_client.post(CHANGELIST, {"action": "test_connection", "_selected_action": [integration.pk]},
                             follow=True).content.decode()
    assert "connection OK (connected to Example Club)" in page
    sandbox.inject(status=401)
    page = admin_client.post(CHANGELIST, {"action": "test_connection", "_selected_action": [integration.pk]},
                             follow=True).content.decode()
    assert "connection failed" in page and API_KEY not in page


def test_initial_sync_offers_no_location_where_the_vendor_has_none(admin_client, sandbox, integration, tasks_inline):
    # The example vendor keeps no per-location number, so "Specific location" cannot apply.
    page = admin_client.post(CHANGELIST, {"action": "perform_initial_sync",
                                          "_selected_action": [integration.pk]}).content.decode()
    assert "Specific location" not in page and 'name="location"' not in page
    response = admin_client.post(CHANGELIST, {"action": "perform_initial_sync", "apply": "1", "scope": "one",
                                              "location": "ANY", "_selected_action": [integration.pk]},
                                 follow=True)
    assert response.status_code == 200
    assert "Example club: initial sync started." in response.content.decode()
    run = SyncRun.objects.get()
    assert run.trigger == SyncRun.Trigger.INITIAL and run.options == {"initial": True}


def test_runs_page_and_issue_resolution(admin_client, sandbox, integration):
    from integrations.sync import sync_run

    sandbox.inject(malformed=True)
    sync_run(integration=integration, sync_name="members")
    runs = admin_client.get(f"/admin/integrations/syncrun/?integration__id__exact={integration.pk}")
    assert "members" in runs.content.decode()
    issue = SyncIssue.objects.get()
    admin_client.post("/admin/integrations/syncissue/", {"action": "resolve", "_selected_action": [issue.pk]})
    issue.refresh_from_db()
    assert issue.resolved_at is not None and issue.resolved_by == "admin"


def test_catalogue_lists_products_and_creates_the_missing_packages(admin_client, sandbox, integration):
    from packages.models import Package
    from tests.factories import PackageFactory

    PackageFactory(alt_id="example_gold")
    url = f"{CHANGELIST}{integration.pk}/catalogue/"
    page = admin_client.get(url).content.decode()
    assert "example_gold" in page and "example_pt10" in page and "missing" in page
    assert "Create the 1 missing package" in page
    admin_client.post(url)
    created = Package.objects.get(alt_id="example_pt10")
    assert (created.name, created.kind, created.credits) == ("10 PT sessions", "credit_pack", 10)
    assert "missing</strong>" not in admin_client.get(url).content.decode()
