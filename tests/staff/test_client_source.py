"""The client page offers "Sync this member now" only for the integration the client came
from: its source key matched whole, never another kind's integration with the same number."""

import pytest

from tests.factories import ClientFactory
from tests.staff.roles import FRONT_DESK, log_in

pytestmark = pytest.mark.django_db


def test_a_client_of_another_kind_with_the_same_number_is_not_offered_a_member_sync(
        client, example_connector, integration, outside):
    stranger = ClientFactory(first_name="Ada", source=f"glofox-{integration.pk}", external_id="m1")
    log_in(client, FRONT_DESK)
    page = client.get(f"/staff/clients/{stranger.pk}/").content.decode()
    assert "Ada" in page and "Sync this member now" not in page
    answer = client.post(f"/staff/clients/{stranger.pk}/sync/", follow=True)
    assert "does not come from an integration that can sync one member" in answer.content.decode()
    assert outside.untouched(), outside.effects()


def test_a_client_of_the_integration_is_offered_a_member_sync(client, example_connector, integration, outside):
    member = ClientFactory(first_name="Ada", source=integration.source, external_id="m1")
    log_in(client, FRONT_DESK)
    assert "Sync this member now" in client.get(f"/staff/clients/{member.pk}/").content.decode()
    client.post(f"/staff/clients/{member.pk}/sync/")
    assert outside.effects()["tasks queued"] == 1
