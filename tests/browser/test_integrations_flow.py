"""In a real browser: Settings > Integrations, an initial sync, the clients, the client page."""

import pytest
from django_q.conf import Conf

from integrations.example.sandbox import API_KEY, ExampleSandbox
from integrations.models import Integration
from integrations.sandbox.transports import served
from tests.integrations.conftest import example_connector  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def vendor():
    with served(ExampleSandbox(members=8)) as url:
        yield url


def test_manager_adds_an_integration_syncs_and_opens_a_client(page, live_server, staff_login, vendor,
                                                              monkeypatch, settings):
    monkeypatch.setattr(Conf, "SYNC", True)  # "Sync now" runs in the server thread
    settings.INTEGRATION_SHOW_HIDDEN = True  # the example vendor is offered when asked
    staff_login("/admin/integrations/integration/")
    page.click("text=Add integration")
    page.click("text=Example member system")
    page.fill("#id_name", "Club API")
    page.fill("#id_base_url", vendor)
    page.fill("#id_api_key", API_KEY)
    page.fill("#id_member_minutes", "5")
    page.click("input[name=_save]")
    assert page.locator(".messagelist").inner_text().startswith("The integration")
    assert Integration.objects.get(name="Club API").secrets()["api_key"] == API_KEY

    page.check("input[name=_selected_action]")
    page.select_option("select[name=action]", "perform_initial_sync")
    page.click("button[name=index]")
    assert page.locator("input[value=all]").count() == 0  # the example vendor has no locations to choose
    page.click("input[name=apply]")
    assert "Club API: initial sync started" in page.locator(".messagelist").inner_text()
    page.reload()
    assert "Succeeded" in page.locator("#result_list").inner_text()

    page.goto(f"{live_server.url}/staff/")
    assert "Club API" in page.locator(".card").first.inner_text()
    assert page.locator(".card svg.chart").count() == 1

    page.goto(f"{live_server.url}/staff/clients/?q=m4@example.com")
    page.click("text=First4")
    assert page.locator("h1").inner_text().startswith("First4")
    assert "from Club API" in page.locator("main p").first.inner_text()
