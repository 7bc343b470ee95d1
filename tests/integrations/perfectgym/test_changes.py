"""Perfect Gym's "anything changed?" for the poller: one `version desc, top 1` call per sync."""

import pytest

from integrations.connectors import connector_for
from integrations.models import SyncState
from tests.integrations.perfectgym.conftest import run

pytestmark = pytest.mark.django_db


def cursor(integration, sync_name):
    return SyncState.objects.get(integration=integration, sync_name=sync_name).cursor


def asked(sandbox, since):
    """The poller's calls the sandbox received since call number `since`."""
    return [(c.path, c.query.get("$orderby"), c.query.get("$top")) for c in sandbox.calls[since:]]


def test_nothing_changed_is_no_with_one_call_per_sync(sandbox, synced):
    connector, before = connector_for(synced), len(sandbox.calls)
    answers = {name: connector.changes_waiting(name, cursor(synced, name))
               for name in ("members", "contracts", "member_products", "visits")}
    assert answers == {"members": False, "contracts": False, "member_products": False, "visits": False}
    assert asked(sandbox, before) == [(f"odata/{entity_set}", "version desc", "1") for entity_set in
                                      ("Members", "Contracts", "MemberProducts", "MemberClubVisits")]


def test_a_changed_member_is_yes_for_members_only_until_the_sync_reads_it(sandbox, synced):
    connector = connector_for(synced)
    sandbox.member_put(11, lastName="Changed")
    assert connector.changes_waiting("members", cursor(synced, "members")) is True
    assert connector.changes_waiting("contracts", cursor(synced, "contracts")) is False
    run(synced, "members")
    assert connector.changes_waiting("members", cursor(synced, "members")) is False


def test_a_visit_is_yes_for_visits(sandbox, synced):
    sandbox.visit_add(member_id=11, club_id=1)
    connector = connector_for(synced)
    assert connector.changes_waiting("visits", cursor(synced, "visits")) is True
    assert connector.changes_waiting("members", cursor(synced, "members")) is False


def test_a_sync_never_run_is_yes(sandbox, integration):
    assert connector_for(integration).changes_waiting("members", None) is True
