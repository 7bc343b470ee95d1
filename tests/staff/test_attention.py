""""Needs attention" is honest: records a sync could not use yet and failing integrations are
listed on the staff issues page and counted on the dashboard, with the fix, until resolved."""

import pytest
from django.utils import timezone

from integrations.pending import Waiting, pending_records_replace
from integrations.sync import sync_run
from packages.models import Package
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db
ALL_CLEAR = "No open issues. Every record the integrations received could be used."


def waiting_for_plan(integration, members: int = 2):
    for n in range(members):
        member = ClientFactory(source=integration.source, external_id=f"m{n}")
        pending_records_replace(integration=integration, waiting=[
            Waiting(reference=f"c-{n}", client_id=member.pk, package="payment_plan_31", start=timezone.now())])


def test_records_waiting_for_a_package_need_attention_until_it_exists(admin_client, integration):
    assert ALL_CLEAR in admin_client.get("/staff/issues/").content.decode()
    waiting_for_plan(integration)
    page = admin_client.get("/staff/issues/").content.decode()
    assert ALL_CLEAR not in page
    assert "payment_plan_31: 2 record(s) of 2 client(s) without a package" in page
    assert "Create a package with alt ID payment_plan_31" in page
    card = admin_client.get("/staff/").content.decode().split('class="attention"', 1)[1]
    assert card.split("</a>", 1)[0].endswith(">2") and "2 records waiting" in card

    Package.objects.create(alt_id="payment_plan_31", name="Plan 31")  # the fix: the records are placed
    assert ALL_CLEAR in admin_client.get("/staff/issues/").content.decode()
    assert ">0</a>" in admin_client.get("/staff/").content.decode().split('class="attention"', 1)[1]


def test_a_failing_integration_is_never_all_clear(admin_client, sandbox, integration):
    sandbox.inject(status=401, times=1)
    sync_run(integration=integration, sync_name="members")
    page = admin_client.get("/staff/issues/").content.decode()
    assert ALL_CLEAR not in page
    assert "Example club" in page and "Wrong credentials" in page
    sync_run(integration=integration, sync_name="members")  # the vendor takes them again
    assert ALL_CLEAR in admin_client.get("/staff/issues/").content.decode()


def test_the_issues_page_filtered_to_one_integration_shows_only_its_records(admin_client, integration, sandbox):
    waiting_for_plan(integration, members=1)
    page = admin_client.get(f"/staff/issues/?integration={integration.pk + 1}").content.decode()
    assert "payment_plan_31" not in page and ALL_CLEAR in page
