"""The staff page's "sync this member now" for Perfect Gym: one member, their contracts, now."""

import pytest

from clients.models import Client
from integrations.connectors import connector_for
from packages.models import ClientPackage
from tests.factories import PackageFactory
from tests.integrations.perfectgym.conftest import run

pytestmark = pytest.mark.django_db


def test_one_member_and_their_contracts_sync_now(sandbox, integration):
    PackageFactory(alt_id="payment_plan_24")
    run(integration, "members")
    member_id = next(iter(sandbox.sets["Members"].rows))
    sandbox.member_put(member_id, firstName="Renamed")
    sandbox.contract_put(memberId=member_id, clubId=1, paymentPlanId=24, status="Current")
    connector_for(integration).client_sync(str(member_id))
    client = Client.objects.get(source=integration.source, external_id=str(member_id))
    assert client.first_name == "Renamed"
    assert ClientPackage.objects.filter(client=client, package__alt_id="payment_plan_24").exists()
