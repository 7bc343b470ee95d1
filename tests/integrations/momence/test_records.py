"""The client hands over typed records read leniently; mapping judges them, and a record it
refuses becomes the same sync issue as before: its reason, its key and the vendor's body."""

from datetime import UTC, datetime, timedelta

import pytest

from clients.models import Client
from integrations.models import SyncIssue, SyncRun
from integrations.momence.records import Member, Membership, SessionBooking
from packages.models import ClassSession

pytestmark = pytest.mark.django_db


def test_a_body_that_is_not_an_object_reads_as_a_record_without_an_id_and_keeps_its_body():
    member = Member.from_api(["Ana"])
    assert (member.id, member.first_name, member.tags, member.payload) == ("", None, (), ["Ana"])


def test_ids_are_text_and_an_unusable_id_is_empty():
    assert [Member.from_api({"id": value}).id for value in (1001, "1001", True, " ", {"id": 1})] == \
        ["1001", "1001", "", "", ""]
    assert SessionBooking.from_api({"id": 5, "member": "Ana"}).member_id is None  # names no member object


def test_a_membership_without_a_tags_field_has_no_known_tags_and_the_body_does_not_count_in_equality():
    bare, tagged = Membership.from_api({"id": 11}), Membership.from_api({"id": 11, "tags": []})
    assert (bare.tags, tagged.tags) == (None, ())
    assert Membership.from_api({"id": 11, "extra": "x"}) == bare


@pytest.fixture
def stray_member(sandbox, monkeypatch):
    """Put a body of your choice first on the members list (the sandbox itself serves objects only)."""
    strays = []
    paged = sandbox._paged

    def with_strays(request, items, **options):
        response = paged(request, items, **options)
        if request.path == "host/members":
            response.body["payload"][:0] = strays
        return response

    monkeypatch.setattr(sandbox, "_paged", with_strays)
    sandbox.member_put(1001, firstName="Ana", lastName="Lee")
    return strays


def test_a_member_that_is_not_an_object_is_an_issue_with_its_body_and_the_page_goes_on(stray_member, run):
    stray_member.append("not a member")
    result = run("members")
    assert (result.status, result.created, result.failed) == (SyncRun.Status.SUCCEEDED, 1, 1)
    issue = SyncIssue.objects.get()
    assert (issue.reason, issue.record_key, issue.payload) == ("The member has no id.", "", "not a member")
    assert Client.objects.get().first_name == "Ana"


def test_an_empty_member_is_an_issue_and_does_not_stop_the_run(stray_member, run):
    stray_member.append({})
    result = run("members")
    assert (result.status, result.created, result.failed) == (SyncRun.Status.SUCCEEDED, 1, 1)
    issue = SyncIssue.objects.get()
    # An empty body is kept wrapped: the engine keeps the record itself for an empty payload.
    assert (issue.reason, issue.payload) == ("The member has no id.", {"body": {}})


def test_a_name_that_is_not_text_is_an_issue_keyed_by_the_member_and_repeats_fold(sandbox, run):
    body = sandbox.member_put(1002, firstName=5, lastName="Okafor", email="ben@studio.test")
    run("members")
    run("members")
    issue = SyncIssue.objects.get()
    assert (issue.reason, issue.record_key, issue.occurrences) == ("firstName is not text: 5.", "1002", 2)
    assert issue.payload == body


def test_a_membership_whose_tags_are_not_a_list_is_an_issue_with_its_body(sandbox, run):
    sandbox.memberships[11]["tags"] = "vip"
    result = run("memberships")
    assert result.failed == 1
    issue = SyncIssue.objects.get()
    assert (issue.reason, issue.record_key) == ("tags is not a list of tags.", "11")
    assert issue.payload == sandbox.memberships[11]


def test_a_booking_naming_no_member_is_an_issue_keeping_the_session_and_its_bookings(sandbox, run):
    sandbox.member_put(1001, firstName="Ana", lastName="Lee")
    run("members")
    start = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    spin, yoga = (sandbox.session_add(name=name, start=start) for name in ("Spin", "Yoga"))
    booking = sandbox.booking_add(spin["id"], 1001, member=None)
    sandbox.booking_add(yoga["id"], 1001)
    result = run("sessions")
    assert (result.status, result.failed) == (SyncRun.Status.SUCCEEDED, 1)
    issue = SyncIssue.objects.get()
    assert (issue.reason, issue.record_key) == ("The booking names no member.", str(spin["id"]))
    listed = {k: v for k, v in booking.items() if k != "sessionId"}
    assert issue.payload == {"session": spin, "bookings": [listed]}
    assert list(ClassSession.objects.values_list("name", flat=True)) == ["Yoga"]


def test_an_unreadable_bought_membership_keeps_all_the_members_bodies(sandbox, run):
    sandbox.member_put(1001, firstName="Ana", lastName="Lee")
    bought = sandbox.bought_add(1001, 14, eventCreditsLeft=7)
    run("members")
    run("memberships")
    sandbox.inject(malformed=True, path="host/members/1001/bought-memberships")
    result = run("bought-memberships")
    assert result.failed == 1
    issue = SyncIssue.objects.get()
    assert (issue.reason, issue.record_key) == ("eventCreditsLeft is not a whole number: 'lots'.", "1001")
    client_id = Client.objects.get(external_id="1001").pk
    assert issue.payload == {"member_id": "1001", "client_id": client_id,
                             "items": [{**bought, "eventCreditsLeft": "lots"}], "last_seen": None}
