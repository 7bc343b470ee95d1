"""The staff page's "sync this member now" for Gladstone: one member and their subscriptions."""

import pytest

from clients.models import Client
from integrations.connectors import connector_for
from integrations.errors import BadRecord
from packages.models import ClientPackage
from tests.integrations.gladstone.conftest import add_member
from tests.integrations.gladstone.test_subscriptions import subscribe

pytestmark = pytest.mark.django_db


def test_one_member_and_their_subscriptions_sync_now(gladstone, integration):
    member_id = add_member(gladstone, forename="Grace")
    subscribe(gladstone, member_id, "PTPK")
    connector_for(integration).client_sync(str(member_id))
    client = Client.objects.get(source=integration.source, external_id=str(member_id))
    assert client.first_name == "Grace"
    assert ClientPackage.objects.filter(client=client, package__alt_id="PTPK").exists()


def test_a_member_gladstone_does_not_know_is_a_bad_record(gladstone, integration):
    with pytest.raises(BadRecord):
        connector_for(integration).client_sync("999999")
