"""An initial sync that is one: every member Gatehouse holds is read again (the contract has no
call listing every member, and the page says so); with a location, only that site's clients."""

from datetime import datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils.html import escape

from clients.models import Client
from integrations.gladstone.contract import NO_MEMBER_LIST
from packages.models import ClientPackage
from tests.integrations.gladstone.conftest import add_member, sync

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/integrations/integration/"


@pytest.fixture
def tasks_inline(monkeypatch):
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)


def operations(gladstone, name: str) -> list[str]:
    """The memberId of each call of the SOAP operation `name` the sandbox received."""
    return [c.body.decode().split("<memberId>")[1].split("<")[0] for c in gladstone.calls
            if f"<{name} ".encode() in c.body or f"<{name}>".encode() in c.body]


def unqueued_change(gladstone, member_id, **fields):
    """A change Gladstone does not queue for Gatehouse (e.g. made before it subscribed)."""
    gladstone.members[member_id].update(fields)


def test_initial_sync_re_reads_every_known_member_not_only_the_change_queue(gladstone, integration, capsys):
    members = [add_member(gladstone, forename=f"M{n}", email=f"m{n}@example.com") for n in range(3)]
    sync(integration)  # the queue is read and acknowledged
    unqueued_change(gladstone, members[0], surname="Renamed")
    start = datetime.now().replace(microsecond=0) - timedelta(days=1)
    ref = gladstone.subscription_put(members[1], sub_type_id="PTPK", site_id="UB", start_date=start,
                                     end_date=start + timedelta(days=30))
    gladstone.queues["Gatehouse"] = []  # nothing queued: only a real re-read sees these
    sync(integration)  # the ongoing sync reads the queue only
    assert Client.objects.get(external_id=str(members[0])).last_name != "Renamed"
    call_command("integration", "sync", integration.name, "members", "--initial")
    assert Client.objects.get(external_id=str(members[0])).last_name == "Renamed"
    assert ClientPackage.objects.filter(alt_id=ref, client__external_id=str(members[1])).exists()


def test_initial_sync_of_one_site_reads_only_its_clients_and_leaves_the_queue(gladstone, integration):
    at_ub = [add_member(gladstone, site_id="UB", email=f"u{n}@example.com") for n in range(2)]
    at_spa = [add_member(gladstone, site_id="SPA", email=f"s{n}@example.com") for n in range(3)]
    sync(integration)
    gladstone.calls.clear()
    later = add_member(gladstone, site_id="UB", email="later@example.com")  # queued, not yet read
    call_command("integration", "sync", integration.name, "members", "--initial", "--location", "SPA")
    assert sorted(operations(gladstone, "RetrieveMember")) == sorted(str(m) for m in at_spa)
    assert "GetMemberChanges" not in gladstone.operations()
    assert not Client.objects.filter(external_id=str(later)).exists()
    sync(integration)  # the queue was left for the next sync
    assert Client.objects.filter(external_id=str(later)).exists() and at_ub


def test_an_unknown_site_is_refused(gladstone, integration):
    with pytest.raises(CommandError, match="No location with alt ID"):
        call_command("integration", "sync", integration.name, "--initial", "--location", "NOPE")


def test_the_admin_says_what_the_contract_cannot_list_and_names_the_site_when_it_applies(
        gladstone, integration, admin_client, tasks_inline):
    page = admin_client.post(CHANGELIST, {"action": "perform_initial_sync",
                                          "_selected_action": [integration.pk]}).content.decode()
    assert "has no call that lists every member" in page and escape(NO_MEMBER_LIST)[:80] in page
    assert "Specific location" in page and 'value="UB"' in page and 'value="SPA"' in page
    add_member(gladstone, site_id="SPA")
    response = admin_client.post(CHANGELIST, {"action": "perform_initial_sync", "apply": "1", "scope": "one",
                                              "location": "SPA", "_selected_action": [integration.pk]},
                                 follow=True)
    assert "Gladstone: initial sync of Spa Road started." in response.content.decode()
