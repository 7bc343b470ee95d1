"""Typed records from the client: a malformed body stays the sync issue's payload, and the
members a bookings page refers to are fetched through the engine (SyncJob.referred)."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from clients.models import Client
from integrations.glofox.client import Booking, Member
from integrations.glofox.sandbox import BRANCH_ID, PACK, PAYG
from integrations.models import SyncIssue, SyncRun
from integrations.sync import sync_run
from packages.models import Booking as ClubBooking
from tests.integrations.glofox.test_client import client

pytestmark = pytest.mark.django_db


def soon(minutes: int) -> datetime:
    return datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=minutes)


def member_reads(glofox) -> list[str]:
    return [c.path.rsplit("/", 1)[1] for c in glofox.calls if c.path.startswith("2.0/members/")]


def with_extra_bookings(glofox, *extra):
    """The bookings list answers `extra` after the sandbox's own bookings, as sent."""
    original = glofox.bookings_list

    def answering(request):
        answer = original(request)
        answer.body["data"] = [*answer.body["data"], *extra]
        return answer

    glofox.routes = [(m, p, answering if h == original else h) for m, p, h in glofox.routes]


def test_the_client_reads_members_and_bookings_as_records_that_keep_the_body(glofox):
    member = glofox.member_add(membership=PACK)
    booking = glofox.booking_add(member["_id"], start=soon(60), event_name="Spin")
    page = client().members_page(branch=BRANCH_ID, page=1)
    read, = page.items
    assert isinstance(read, Member) and read.payload == page.records[0]
    assert (read.id, read.first_name, read.email) == (member["_id"], member["first_name"], member["email"])
    assert (read.membership.membership_id, read.membership.type) == (PACK, "num_classes")
    assert client().member(branch=BRANCH_ID, member_id=member["_id"]) == read
    listed, = client().bookings_page(branch=BRANCH_ID, page=1).items
    assert isinstance(listed, Booking)
    assert (listed.id, listed.member_id, listed.class_id, listed.class_name) == (
        booking["_id"], member["_id"], booking["event_id"], "Spin")
    assert client().member(branch=BRANCH_ID, member_id="0" * 24) is None  # Glofox answers 404


def test_a_malformed_member_becomes_an_issue_whose_payload_is_the_body_as_sent(glofox, configuration):
    member = glofox.member_add()
    glofox.inject(malformed=True, path="2.0/members")
    run = sync_run(integration=configuration.integration, sync_name="members")
    assert (run.status, run.failed, Client.objects.count()) == (SyncRun.Status.SUCCEEDED, 1, 0)
    issue = SyncIssue.objects.get()
    sent = json.loads(json.dumps(member))
    sent["membership"]["start_date"] = "next tuesday"
    assert (issue.record_key, issue.payload) == (member["_id"], sent)
    assert issue.reason.startswith("Unreadable membership dates")


def test_bookings_that_are_no_object_or_empty_are_issues_with_what_was_sent(glofox, configuration):
    member = glofox.member_add(membership=PAYG)
    glofox.booking_add(member["_id"], start=soon(60))
    with_extra_bookings(glofox, "not a booking", {})
    sync_run(integration=configuration.integration, sync_name="members")
    run = sync_run(integration=configuration.integration, sync_name="bookings")
    assert (run.created, run.failed, ClubBooking.objects.count()) == (1, 2, 1)
    issues = SyncIssue.objects.filter(sync_name="bookings").order_by("pk")
    assert [(i.reason, i.payload) for i in issues] == [
        ("The Glofox booking has no _id.", "not a booking"),
        ("The Glofox booking has no _id.", {"record": "{}"}),
    ]


def test_an_unknown_member_of_a_booking_is_read_once_and_written_in_the_same_page(glofox, configuration):
    member = glofox.member_add(membership=PAYG)
    for minutes in (40, 100):
        glofox.booking_add(member["_id"], start=soon(minutes))
    glofox.calls.clear()
    run = sync_run(integration=configuration.integration, sync_name="bookings")
    assert member_reads(glofox) == [member["_id"]]  # two bookings, one read of their member
    assert (run.pages, run.created, run.failed) == (1, 3, 0)  # the member and both bookings, one page
    client_row = Client.objects.get(external_id=member["_id"])
    assert set(ClubBooking.objects.values_list("client", flat=True)) == {client_row.pk}
    glofox.calls.clear()
    sync_run(integration=configuration.integration, sync_name="bookings", options={"window_rescan": True})
    assert member_reads(glofox) == []  # known now: not read again


def test_a_window_rescan_brings_the_unknown_members_of_its_bookings(glofox, configuration):
    member = glofox.member_add(membership=PAYG)
    glofox.booking_add(member["_id"], start=soon(50))
    run = sync_run(integration=configuration.integration, sync_name="bookings",
                   options={"window_rescan": True, "branch_id": BRANCH_ID})
    assert (run.status, run.created) == (SyncRun.Status.SUCCEEDED, 2)
    assert ClubBooking.objects.get().client.external_id == member["_id"]


def test_a_booking_of_a_member_glofox_does_not_know_is_skipped(glofox, configuration):
    member = glofox.member_add(membership=PAYG)
    glofox.booking_add(member["_id"], start=soon(30))
    glofox.members[BRANCH_ID].pop(member["_id"])  # gone from Glofox: the member read answers 404
    run = sync_run(integration=configuration.integration, sync_name="bookings")
    assert (run.status, run.created, run.skipped) == (SyncRun.Status.SUCCEEDED, 0, 1)
    assert not Client.objects.exists() and not ClubBooking.objects.exists()
