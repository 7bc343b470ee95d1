"""An initial sync of one location reads only the Glofox branch mapped to it; the others keep
their cursors. The admin offers the locations a configuration maps a branch to."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accessctl.models import KisiPlace
from clients.models import Client
from integrations.glofox.sandbox import BRANCH_ID, SECOND_BRANCH_ID, SECOND_UNLIMITED, UNLIMITED
from integrations.models import SyncState
from integrations.sync import sync_run
from tests.factories import LocationFactory
from tests.integrations.glofox.conftest import configure

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/integrations/integration/"


@pytest.fixture
def two_branches(glofox, integration, group, place):
    north = LocationFactory(name="North", alt_id="NORTH", time_zone="Europe/London")
    north_place = KisiPlace.objects.create(kisi_id="78", name="North", location=north)
    configure(integration, group, place)
    configure(integration, group, north_place, types=[SECOND_UNLIMITED], branch=SECOND_BRANCH_ID)
    central = [glofox.member_add(membership=UNLIMITED) for _ in range(2)]
    northern = [glofox.member_add(branch=SECOND_BRANCH_ID, membership=SECOND_UNLIMITED) for _ in range(3)]
    return {"central": central, "north": northern, "central_alt_id": place.location.alt_id}


def test_one_locations_initial_sync_processes_only_that_branchs_members(two_branches, integration):
    call_command("integration", "sync", integration.name, "--initial", "--location", "NORTH")
    assert set(Client.objects.values_list("external_id", flat=True)) == {m["_id"] for m in two_branches["north"]}


def test_other_branches_keep_their_cursor(two_branches, integration):
    sync_run(integration=integration, sync_name="members")
    before = SyncState.objects.get(integration=integration, sync_name="members").cursor[BRANCH_ID]
    call_command("integration", "sync", integration.name, "members", "--initial", "--location", "NORTH")
    after = SyncState.objects.get(integration=integration, sync_name="members").cursor
    assert after[BRANCH_ID] == before and SECOND_BRANCH_ID in after


def test_a_location_no_configuration_maps_is_refused(two_branches, integration):
    LocationFactory(alt_id="ELSEWHERE")
    with pytest.raises(CommandError, match="carries no Glofox number"):
        call_command("integration", "sync", integration.name, "--initial", "--location", "ELSEWHERE")


def test_the_admin_offers_only_mapped_locations_and_names_the_one_chosen(
        two_branches, integration, admin_client, monkeypatch):
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)
    LocationFactory(name="Unmapped", alt_id="UNMAPPED")
    page = admin_client.post(CHANGELIST, {"action": "perform_initial_sync",
                                          "_selected_action": [integration.pk]}).content.decode()
    assert 'value="NORTH"' in page and f'value="{two_branches["central_alt_id"]}"' in page
    assert 'value="UNMAPPED"' not in page
    response = admin_client.post(CHANGELIST, {"action": "perform_initial_sync", "apply": "1", "scope": "one",
                                              "location": "NORTH", "_selected_action": [integration.pk]},
                                 follow=True)
    assert "Glofox: initial sync of North started." in response.content.decode()
    assert set(Client.objects.values_list("external_id", flat=True)) == {m["_id"] for m in two_branches["north"]}
