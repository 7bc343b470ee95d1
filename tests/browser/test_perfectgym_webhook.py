"""Perfect Gym's webhook address in a real browser: the manager copies it from the
integration's page, Perfect Gym posts to it and the new member arrives; "New webhook
address" replaces it and the old one is refused."""

import pytest
from django_q.conf import Conf

from clients.models import Client, IdentityType, Location
from integrations.models import Integration
from integrations.perfectgym.sandbox import CLIENT_ID, CLIENT_SECRET, PerfectGymSandbox
from integrations.sandbox.transports import free_port, served
from integrations.services import integration_save
from integrations.sync import sync_run

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def perfectgym():
    port = free_port()
    fake = PerfectGymSandbox(members=10, seed=7, base_url=f"http://127.0.0.1:{port}/")
    with served(fake, port=port) as url:
        yield fake, url


def test_the_manager_pastes_the_address_and_perfect_gym_wakes_the_members_sync(page, live_server, staff_login,
                                                                              perfectgym, monkeypatch):
    fake, url = perfectgym
    monkeypatch.setattr(Conf, "SYNC", True)  # the webhook's tasks run in the server thread
    Location.objects.create(name="Uxbridge", alt_id="UB", integration_numbers={"perfectgym_club": "1"})
    identity = IdentityType.objects.create(display_name="Perfect Gym Customer Number", max_per_client=1)
    integration = integration_save(kind="perfectgym", name="Perfect Gym", secrets={"client_secret": CLIENT_SECRET},
                                   settings={"base_url": url, "client_id": CLIENT_ID, "identity_type": identity.pk,
                                             "sync_members": True, "sync_swipes": False})
    sync_run(integration=integration, sync_name="members", options={"initial": True})

    staff_login(f"/admin/integrations/integration/{integration.pk}/change/")
    address = page.locator("#webhook-url").input_value()
    assert address.startswith(f"{live_server.url}/api/v1/webhooks/perfectgym/{integration.pk}/")
    assert "carries a secret" in page.locator("#webhook-address").inner_text()

    newcomer = fake.member_put(homeClubId=1, firstName="Browser", lastName="Newcomer")
    assert fake.webhook_send(address, "UserModified", memberId=newcomer["id"]).status_code == 200
    assert Client.objects.get(external_id=str(newcomer["id"])).first_name == "Browser"

    page.click("[data-tool-name=webhook_address_new_button] button")
    assert "its webhook address is new" in page.locator(".messagelist").inner_text()
    fresh = page.locator("#webhook-url").input_value()
    token = Integration.objects.get(pk=integration.pk).secrets()["webhook_token"]
    assert fresh != address and fresh.endswith(f"/{token}/")
    assert fake.webhook_send(address, "UserModified", memberId=newcomer["id"]).status_code == 404
    assert fake.webhook_send(fresh, "UserModified", memberId=newcomer["id"]).status_code == 200
