"""The Perfect Gym sandbox served over real HTTP (as the demo and the benchmark use it)."""


import pytest

from clients.models import Client
from integrations.connectors import connector_for
from integrations.perfectgym import sandbox_odata
from integrations.perfectgym.sandbox import CLIENT_SECRET, PASSWORD, PerfectGymSandbox
from integrations.sandbox.transports import served
from integrations.services import integration_save
from packages.models import ClientPackage
from tests.factories import PackageFactory
from tests.integrations.perfectgym.conftest import initial, pg_settings

pytestmark = pytest.mark.django_db


@pytest.fixture
def over_http():
    fake = PerfectGymSandbox(members=60, seed=11)
    with served(fake) as url:
        yield fake, url


def test_initial_sync_and_login_over_http(over_http, customer_number, locations, monkeypatch):
    fake, url = over_http
    monkeypatch.setattr(sandbox_odata, "PAGE_SIZE", 9)
    PackageFactory(alt_id="payment_plan_24")
    integration = integration_save(kind="perfectgym", name="PG over HTTP",
                                   settings=pg_settings(customer_number, base_url=url),
                                   secrets={"client_secret": CLIENT_SECRET})
    runs = initial(integration)
    assert [r.status for r in runs] == ["succeeded"] * 3
    members = [m for m in fake.sets["Members"].rows.values() if m["homeClubId"] != 9]
    assert Client.objects.count() == len(members)
    plan_24 = [c for c in fake.sets["Contracts"].rows.values()
               if c["paymentPlanId"] == 24 and c["clubId"] != 9]
    assert ClientPackage.objects.count() == len(plan_24)
    followed = [c for c in fake.calls if c.path == "odata/Members" and "$skiptoken" in c.query]
    assert len(followed) >= 5  # the absolute nextLinks (Host of the served sandbox) were followed
    result = connector_for(integration).credential_check("member21@pg.example", PASSWORD)
    assert result.ok and result.record.external_id == "21"
