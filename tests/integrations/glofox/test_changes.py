"""Glofox's "anything changed?" for the poller: one modified-since call per branch, limit 1."""

import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from clients.models import Client
from integrations.connectors import connector_for
from integrations.glofox.sandbox import BRANCH_ID
from integrations.models import SyncState
from integrations.sync import sync_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(glofox, monkeypatch):
    """One clock for Glofox's modified dates and the syncs' passes, moved by the test."""
    now = [int(time.time())]
    glofox.clock = lambda: now[0]
    monkeypatch.setattr("integrations.glofox.syncs.time", SimpleNamespace(time=lambda: now[0]))
    return now


@pytest.fixture
def synced(glofox, configuration, clock):
    """Members and bookings synced; then a minute passes."""
    member = glofox.member_add(first_name="Ada")
    glofox.booking_add(member["_id"], start=datetime.now(UTC) + timedelta(hours=2))
    clock[0] += 1
    for name in ("members", "bookings"):
        sync_run(integration=configuration.integration, sync_name=name)
    clock[0] += 60
    return configuration.integration, member


def ask(integration, sync_name):
    state = SyncState.objects.get(integration=integration, sync_name=sync_name)
    return connector_for(integration).changes_waiting(sync_name, state.cursor)


def asked(glofox, since):
    return [(c.path, c.query.get("limit"), "modified_start_date" in c.query or "utc_modified_start_date" in c.query)
            for c in glofox.calls[since:]]


def test_nothing_changed_is_no_with_one_call_per_branch_and_sync(glofox, synced):
    integration, _ = synced
    before = len(glofox.calls)
    assert (ask(integration, "members"), ask(integration, "bookings")) == (False, False)
    assert asked(glofox, before) == [("2.0/members", "1", True), (f"2.2/branches/{BRANCH_ID}/bookings", "1", True)]


def test_a_changed_member_is_yes_for_members_until_the_sync_reads_it(glofox, synced, clock):
    integration, member = synced
    glofox.member_put(member["_id"], last_name="Changed")
    assert (ask(integration, "members"), ask(integration, "bookings")) == (True, False)
    clock[0] += 1  # the next pass begins after the change
    sync_run(integration=integration, sync_name="members")
    assert Client.objects.get(external_id=member["_id"]).last_name == "Changed"
    assert ask(integration, "members") is False


def test_a_new_booking_is_yes_for_bookings(glofox, synced):
    integration, member = synced
    glofox.booking_add(member["_id"], start=datetime.now(UTC) + timedelta(hours=3))
    assert (ask(integration, "members"), ask(integration, "bookings")) == (False, True)


def test_a_branch_never_synced_is_yes_without_a_call_and_checkins_are_not_polled(glofox, configuration):
    connector, before = connector_for(configuration.integration), len(glofox.calls)
    assert connector.changes_waiting("members", None) is True
    assert connector.changes_waiting("checkins", None) is None
    assert glofox.calls[before:] == []


def test_the_looks_are_paced_at_glofox_rate_limit(glofox, synced, glofox_sleeps):
    """One connector serves a poller's looks: past the burst, its client waits its turn (10/s)."""
    integration, _ = synced
    state = SyncState.objects.get(integration=integration, sync_name="members")
    connector, waits_before = connector_for(integration), len(glofox_sleeps)
    for _ in range(30):
        connector.changes_waiting("members", state.cursor)
    waits = glofox_sleeps[waits_before:]
    assert len(waits) >= 9 and all(0 < wait <= 0.1 for wait in waits)
