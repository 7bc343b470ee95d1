"""The Perfect Gym seed's flow in a real browser, through the buttons on the pages it names:
add Perfect Gym against its sandbox, enter a club number on a location, "Perform initial
sync" for that one location from the integration's page, read the run's report there, fix a
missing package from the report and see the attention item clear; then the clients, a
client page, a door access arriving in the live log and the dashboard card."""

import pytest
from django_q.conf import Conf

from accessctl.models import Door
from clients.models import Client, Location
from integrations.models import Integration, PendingRecord
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
    """Two locations with their doors, one of them still without its club number, and one
    package of the payment plans members hold."""
    for club_id, alt_id, name in [(1, "UB", "Uxbridge"), (2, "SPA", "Spa Road")]:
        location = Location.objects.create(name=name, alt_id=alt_id, time_zone="Europe/London",
                                           integration_numbers={"perfectgym_club": "2"} if club_id == 2 else {})
        Door.objects.create(title=f"{name} entrance", door_id=f"door-{alt_id}", location=location)
    Package.objects.create(alt_id="payment_plan_24", name="Monthly membership")


def test_manager_connects_perfect_gym_syncs_one_location_and_fixes_the_report(page, live_server, staff_login,
                                                                              perfectgym, club, screenshot,
                                                                              monkeypatch):
    fake, url = perfectgym
    monkeypatch.setattr(Conf, "SYNC", True)  # the buttons' tasks run in the server thread
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

    # Services > Locations > Uxbridge > Integrations: its Perfect Gym club number.
    uxbridge_location = Location.objects.get(alt_id="UB")
    page.goto(f"{live_server.url}/admin/clients/location/{uxbridge_location.pk}/change/")
    page.fill("#id_integration_perfectgym_club", "1")
    page.click("input[name=_save]")
    uxbridge_location.refresh_from_db()
    assert uxbridge_location.integration_numbers == {"perfectgym_club": "1"}

    # Settings > Integrations > ✏️ > Perform initial sync: one location to start with.
    page.goto(f"{live_server.url}/admin/integrations/integration/")
    page.click("text=Perfect Gym")
    page.click("[data-tool-name=test_connection_button] button")
    assert "connection OK" in page.locator(".messagelist").inner_text()
    page.click("[data-tool-name=perform_initial_sync_button] button")
    page.check("input[value=one]")
    page.select_option("#id_location", "UB")
    page.click("input[name=apply]")
    assert "initial sync of Uxbridge started" in page.locator(".messagelist").inner_text()
    assert page.url.endswith(f"/admin/integrations/integration/{integration.pk}/change/")
    uxbridge = Client.objects.filter(home_location__alt_id="UB")
    assert uxbridge.exists() and not Client.objects.filter(home_location__alt_id="SPA").exists()

    # The report, in full, on the integration's page; what waits, with its fix.
    contracts = page.locator("tr.sync[data-sync=contracts]")
    waiting = PendingRecord.objects.filter(integration=integration, waits_for="package")
    wanted = waiting.order_by("package_wanted").values_list("package_wanted", flat=True).first()
    assert wanted and f"{wanted}: " in contracts.locator("pre.report").inner_text()
    item = page.locator("#attention li.pending", has_text=f"{wanted}: ")
    assert "without a package" in item.inner_text()
    screenshot("integration-page")

    item.locator("text=Do it").click()  # Packages > add, its alt ID filled in from the report
    assert page.locator("#id_alt_id").input_value() == wanted
    page.fill("#id_name", "Student membership")
    page.click("input[name=_save]")
    assert not waiting.filter(package_wanted=wanted).exists()
    assert uxbridge.filter(packages__package__alt_id=wanted).exists()
    page.goto(f"{live_server.url}/admin/integrations/integration/{integration.pk}/change/")
    assert page.locator("#attention li.pending", has_text=f"{wanted}: ").count() == 0
    page.goto(f"{live_server.url}/staff/issues/")
    assert f"{wanted}: " not in page.locator("main").inner_text()

    page.goto(f"{live_server.url}/admin/integrations/integration/")
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
