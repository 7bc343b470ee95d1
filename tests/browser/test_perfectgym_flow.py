"""The issue's browser flow: log in, add Perfect Gym against its sandbox, run the initial
sync, see the clients, open a client page, and watch a door access appear in the live log."""

import pytest
from django_q.conf import Conf

from accessctl.models import Door
from clients.models import Client, Location
from integrations.models import Integration
from integrations.perfectgym.sandbox import CLIENT_ID, CLIENT_SECRET, PerfectGymSandbox
from integrations.sandbox.transports import free_port, served
from integrations.sync import sync_run
from packages.models import Package

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def perfectgym():
    port = free_port()
    fake = PerfectGymSandbox(members=30, seed=5, base_url=f"http://127.0.0.1:{port}/")
    with served(fake, port=port) as url:
        yield fake, url


@pytest.fixture
def club():
    """Two locations with their Perfect Gym club numbers and doors, and the packages."""
    for club_id, alt_id, name in [(1, "UB", "Uxbridge"), (2, "SPA", "Spa Road")]:
        location = Location.objects.create(name=name, alt_id=alt_id, time_zone="Europe/London",
                                           integration_numbers={"perfectgym_club": str(club_id)})
        Door.objects.create(title=f"{name} entrance", door_id=f"door-{alt_id}", location=location)
    Package.objects.create(alt_id="payment_plan_24", name="Monthly membership")


def test_manager_connects_perfect_gym_and_sees_a_door_access_arrive(page, live_server, staff_login, perfectgym,
                                                                     club, screenshot, monkeypatch):
    fake, url = perfectgym
    monkeypatch.setattr(Conf, "SYNC", True)  # the admin's actions run in the server thread
    staff_login("/admin/integrations/integration/add/")
    page.click("text=Perfect Gym")
    page.fill("#id_name", "Perfect Gym")
    page.fill("#id_base_url", url)
    page.fill("#id_client_id", CLIENT_ID)
    page.fill("#id_client_secret", CLIENT_SECRET)
    page.check("#id_create_identity_type")
    page.click("input[name=_save]")
    assert "was added successfully" in page.locator(".messagelist").inner_text()
    integration = Integration.objects.get(kind="perfectgym")

    page.check("input[name=_selected_action]")
    page.select_option("select[name=action]", "perform_initial_sync")
    page.click("button[name=index]")
    page.check("input[value=one]")
    page.select_option("#id_location", "UB")
    page.click("input[name=apply]")
    assert "initial sync of Uxbridge started" in page.locator(".messagelist").inner_text()
    uxbridge = Client.objects.filter(home_location__alt_id="UB")
    assert uxbridge.exists() and not Client.objects.filter(home_location__alt_id="SPA").exists()
    screenshot("settings-integrations")

    page.goto(f"{live_server.url}/staff/clients/")
    member = uxbridge.order_by("pk").first()
    page.click(f"text={member}")
    assert page.locator("h1").inner_text().startswith(str(member))
    assert "from Perfect Gym" in page.locator("main p").first.inner_text()
    screenshot("staff-client")

    page.goto(f"{live_server.url}/staff/access-log/")
    assert page.locator(".live").is_visible()
    fake.visit_add(member_id=int(member.external_id), club_id=1)
    assert sync_run(integration=integration, sync_name="visits").created >= 1
    row = page.locator("table.access-log tbody tr", has_text=str(member)).first
    row.wait_for(timeout=15_000)  # arrives by the page's own refresh, no reload
    assert "Reported by Perfect Gym" in row.inner_text() and "Uxbridge entrance" in row.inner_text()
    screenshot("staff-access-log")

    page.goto(f"{live_server.url}/staff/")
    assert "Perfect Gym" in page.locator(".card").first.inner_text()
    screenshot("staff-dashboard")
