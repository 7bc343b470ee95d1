"""The integration's admin page tells its story: per sync the last run with its report in
full, quiet runs folded, the next run; issues and waiting records with their fix; why it
fails, in one line, the same on the staff dashboard; the webhook address for the vendor."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_q.models import OrmQ

from clients.models import Client
from integrations.models import SyncRun
from integrations.pending import Waiting, pending_records_replace
from integrations.perfectgym.syncs import NO_CLUBS
from integrations.services import integration_save
from integrations.sync import sync_run
from packages.models import Package
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def page_of(admin_client, integration) -> str:
    return admin_client.get(reverse("admin:integrations_integration_change", args=[integration.pk])).content.decode()


def quiet_run(integration, minutes_ago: int) -> SyncRun:
    started = timezone.now() - timedelta(minutes=minutes_ago)
    return SyncRun.objects.create(integration=integration, sync_name="members", started_at=started,
                                  finished_at=started + timedelta(seconds=1), status=SyncRun.Status.SUCCEEDED)


def test_the_page_shows_the_last_run_with_its_report_and_folds_the_quiet_ones(admin_client, sandbox, integration):
    run = sync_run(integration=integration, sync_name="members")
    SyncRun.objects.filter(pk=run.pk).update(
        started_at=timezone.now() - timedelta(minutes=30),
        report="plan_9: 3 members without a package\nWaiting now:\nplan_9: create the package")
    first_quiet = timezone.localtime(quiet_run(integration, 20).started_at)
    for minutes in (10, 5):
        quiet_run(integration, minutes)
    page = page_of(admin_client, integration)
    assert f"created {run.created}, updated 0" in page
    assert "plan_9: 3 members without a package\nWaiting now:\nplan_9: create the package" in page
    assert f"3 runs with no changes since {first_quiet:%H:%M:%S}" in page
    assert 'data-tool-name="perform_initial_sync_button"' in page and 'data-tool-name="catalogue_button"' in page


def test_the_sync_run_list_folds_runs_that_found_nothing_into_one_line(admin_client, sandbox, integration):
    sync_run(integration=integration, sync_name="members")
    since = timezone.localtime(quiet_run(integration, 40).started_at)
    for minutes in (30, 20):
        quiet_run(integration, minutes)
    url = reverse("admin:integrations_syncrun_changelist") + f"?integration__id__exact={integration.pk}"
    listed = admin_client.get(url)
    assert listed.context["cl"].result_count == 1
    assert f"3 runs with no changes since {since:%H:%M:%S}" in listed.content.decode()
    assert admin_client.get(url + "&quiet=only").context["cl"].result_count == 3


def test_a_failing_integration_says_why_and_what_to_do_on_its_page_and_the_dashboard(admin_client, sandbox,
                                                                                       integration):
    sandbox.inject(status=401, times=5)
    assert sync_run(integration=integration, sync_name="members").status == SyncRun.Status.FAILED
    cause = "Wrong credentials: the vendor refused them (401/403)."
    assert cause in page_of(admin_client, integration)
    card = admin_client.get("/staff/").content.decode()
    assert cause in card
    assert reverse("admin:integrations_integration_change", args=[integration.pk]) in card


@pytest.mark.parametrize("fault, cause", [
    ({"status": 503, "times": 10}, "Vendor unreachable"),
    ({"status": 404, "times": 10}, "answered 404"),
])
def test_other_failures_are_named_in_one_line(admin_client, sandbox, integration, fault, cause):
    sandbox.inject(**fault)
    sync_run(integration=integration, sync_name="members")
    shown = page_of(admin_client, integration).split('id="failure-cause">', 1)[1].split("</p>", 1)[0]
    assert cause in shown and "\n" not in shown


def test_waiting_records_are_listed_with_their_fix_until_the_package_exists(admin_client, integration):
    member = ClientFactory(source=integration.source, external_id="m1")
    pending_records_replace(integration=integration, waiting=[
        Waiting(reference="c-1", client_id=member.pk, package="plan_9", start=timezone.now())])
    page = page_of(admin_client, integration)
    assert "plan_9: 1 record(s) of 1 client(s) without a package" in page
    assert reverse("admin:packages_package_add") + "?alt_id=plan_9" in page
    Package.objects.create(alt_id="plan_9", name="Plan 9")
    assert "plan_9" not in page_of(admin_client, integration)
    assert Client.objects.get(pk=member.pk).packages.get().package.alt_id == "plan_9"


def test_sync_now_on_the_page_queues_the_one_sync_it_names(admin_client, integration):
    url = reverse("admin:integrations_integration_actions", kwargs={"pk": integration.pk, "tool": "sync_now_button"})
    assert admin_client.post(url, {"sync": "members"}).status_code == 302
    assert [task.task["args"][1] for task in OrmQ.objects.all()] == ["members"]
    admin_client.post(url, {"sync": "no-such-sync"})
    assert OrmQ.objects.count() == 1


def test_the_webhook_address_is_shown_to_paste_into_the_vendor(admin_client, integration):
    address = f"http://testserver/api/v1/webhooks/example/{integration.pk}/"
    page = page_of(admin_client, integration)
    assert f'value="{address}"' in page and "Copy</button>" in page
    momence = integration_save(kind="momence", name="Momence", settings={}, secrets={})
    assert 'id="webhook-address"' not in page_of(admin_client, momence)  # Momence sends none


@pytest.mark.parametrize("kind, label", [("glofox", "Glofox"), ("kisi", "Kisi")])
def test_the_add_form_explains_the_webhook_and_saving_shows_its_address(admin_client, kind, label):
    form = admin_client.get(reverse("admin:integrations_integration_add") + f"?kind={kind}").content.decode()
    assert f"/api/v1/webhooks/{kind}//" not in form
    assert "shown on this integration's page once it is saved" in form
    saved = integration_save(kind=kind, name=label, settings={}, secrets={"api_key": "k", "api_token": "t"})
    address = f"http://testserver/api/v1/webhooks/{kind}/{saved.pk}/"
    assert f'value="{address}"' in page_of(admin_client, saved)


def test_labels_not_slugs_in_the_type_filter_and_on_the_client_page(admin_client, sandbox, integration):
    listed = admin_client.get(reverse("admin:integrations_integration_changelist")).content.decode()
    assert "?kind=example" in listed and ">Example member system</a>" in listed
    sync_run(integration=integration, sync_name="members")
    runs = admin_client.get(reverse("admin:integrations_syncrun_changelist")).content.decode()
    assert "?sync_name=members" in runs and ">Members</a>" in runs and ">members</a>" not in runs
    member = Client.objects.get(external_id="m1")
    page = admin_client.get(reverse("admin:clients_client_change", args=[member.pk])).content.decode()
    assert "Example club" in page and integration.source not in page.split('id="content-main"', 1)[1]


def test_saving_a_new_integration_says_where_its_webhooks_go(admin_client, settings):
    settings.INTEGRATION_SHOW_HIDDEN = True
    url = reverse("admin:integrations_integration_add") + "?kind=example"
    response = admin_client.post(url, {"name": "Club API", "is_active": "on", "base_url": "https://api.example/",
                                       "api_key": "k", "member_minutes": "5", "login_order": "10"}, follow=True)
    saved = response.context["cl"].queryset.get(name="Club API")
    said = [str(m) for m in response.context["messages"]]
    assert f"paste this webhook address into Example member system: " \
           f"http://testserver/api/v1/webhooks/example/{saved.pk}/" in said[-1]


def test_a_location_without_its_club_number_is_named_as_the_cause(admin_client, integration):
    SyncRun.objects.create(integration=integration, sync_name="members", status=SyncRun.Status.FAILED,
                           finished_at=timezone.now(), error=f"PermanentError: {NO_CLUBS}")
    assert "A location has no club number: enter the vendor&#x27;s number in the Location" in \
        page_of(admin_client, integration)
    assert "A location has no club number" in admin_client.get("/staff/").content.decode()
