"""Members -> clients and customer tags -> Gatehouse tags: a rescan that writes only changes."""

import pytest

from clients.models import Client, ClientTagChange, Tag
from clients.services import client_tags_change
from integrations.models import SyncIssue, SyncRun, SyncState
from integrations.momence import syncs
from integrations.momence.models import MomenceMember, MomenceTag
from tests.factories import TagFactory
from tests.integrations.momence.conftest import calls

pytestmark = pytest.mark.django_db


@pytest.fixture
def studio(sandbox):
    sandbox.member_put(1001, firstName="Ana", lastName="Lee", email="ana@studio.test", phoneNumber="+44 7700 1",
                       tags=[1, 3])
    sandbox.member_put(1002, firstName="Ben", lastName="Okafor", email="ben@studio.test", tags=[1])
    sandbox.member_put(1003, firstName="Cy", lastName="Park", email="cy@studio.test", tags=[])
    return sandbox


def tag_names(external_id: str) -> set[str]:
    return set(Client.objects.get(external_id=external_id).tags.values_list("name", flat=True))


def test_members_become_clients_with_their_tags(studio, run, integration):
    result = run("members")
    assert (result.status, result.created, result.failed) == (SyncRun.Status.SUCCEEDED, 3, 0)
    ana = Client.objects.get(source=integration.source, external_id="1001")
    assert (ana.first_name, ana.last_name, ana.email, ana.phone) == ("Ana", "Lee", "ana@studio.test", "+44 7700 1")
    assert tag_names("1001") == {"members", "vip"} and tag_names("1003") == set()
    assert set(MomenceTag.objects.values_list("momence_id", "tag__name")) == {("1", "members"), ("3", "vip")}
    change = ClientTagChange.objects.filter(client=ana, tag__name="vip").get()
    assert change.action == "add" and change.source == integration.source


def test_tags_sync_knows_tags_nobody_has_yet(studio, run):
    run("tags")
    assert set(Tag.objects.values_list("name", flat=True)) == {"members", "door-access", "vip", "staff"}
    assert MomenceTag.objects.get(momence_id="2").tag.name == "door-access"


def test_members_are_paged_by_last_seen_and_the_rescan_starts_over(studio, run):
    run("members")
    listed = calls(studio, "GET", "host/members")
    assert listed[0].query == {"sortBy": "lastSeenAt", "sortOrder": "ASC", "page": "0", "pageSize": "100"}
    assert SyncState.objects.get(sync_name="members").cursor is None


def test_second_scan_writes_only_what_changed(studio, run):
    run("members")
    before = Client.objects.get(external_id="1003").updated_at
    studio.member_put(1001, email="ana.lee@studio.test")
    studio.member_put(1002, tags=[])  # Momence took "members" from Ben
    again = run("members")
    assert (again.created, again.updated, again.unchanged) == (0, 2, 1)
    assert Client.objects.get(external_id="1001").email == "ana.lee@studio.test"
    assert tag_names("1002") == set()
    assert Client.objects.get(external_id="1003").updated_at == before


def test_tags_momence_does_not_know_are_left_alone(studio, run):
    run("members")
    gym_floor = TagFactory(name="gym-floor")
    Client.objects.get(external_id="1003").tags.add(gym_floor)
    run("members")
    assert tag_names("1003") == {"gym-floor"}


def test_gatehouse_change_not_yet_pushed_is_not_undone(studio, run):
    run("tags")
    run("members")
    cy = Client.objects.get(external_id="1003")
    door = Tag.objects.get(name="door-access")
    client_tags_change(client_ids={cy.pk}, tag=door, add=True, reason="Sequence: Yoga", source="sequence")
    run("members")  # Momence does not have it yet: the push has not run
    assert tag_names("1003") == {"door-access"}


def test_last_seen_is_remembered_for_each_member(studio, run):
    from datetime import UTC, datetime

    studio.member_put(1002, lastSeen=datetime(2025, 3, 1, 9, 30, tzinfo=UTC))
    run("members")
    assert MomenceMember.objects.get(member_id="1002").last_seen == datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
    assert MomenceMember.objects.get(member_id="1003").client.first_name == "Cy"


def test_malformed_member_becomes_an_issue_and_the_page_goes_on(studio, run):
    studio.inject(malformed=True, path="host/members")
    result = run("members")
    assert result.status == SyncRun.Status.SUCCEEDED and (result.created, result.failed) == (2, 1)
    issue = SyncIssue.objects.get()
    assert issue.sync_name == "members" and "no name" in issue.reason
    assert issue.record_key == "1001" and issue.payload["email"] == "ana@studio.test"
    assert not Client.objects.filter(external_id="1001").exists()


def test_429_is_waited_out(studio, run, momence_sleeps):
    studio.inject(status=429, retry_after=7, path="host/members")
    result = run("members")
    assert result.status == SyncRun.Status.SUCCEEDED and result.created == 3
    assert 7.0 in momence_sleeps


def test_5xx_storm_fails_and_the_next_run_resumes_at_its_page(sandbox, run, monkeypatch):
    monkeypatch.setattr(syncs, "MEMBERS_PER_COMMIT", 100)  # each page its own transaction
    for n in range(250):
        sandbox.member_put(2000 + n, firstName=f"M{n}", lastName="X")
    sandbox.inject(status=503, times=50, skip=1, path="host/members")
    failed = run("members")
    assert failed.status == SyncRun.Status.FAILED and "503" in failed.error
    assert Client.objects.count() == 100
    assert SyncState.objects.get(sync_name="members").cursor == {"page": 1}
    sandbox.faults_clear()
    resumed = run("members")
    assert resumed.status == SyncRun.Status.SUCCEEDED and resumed.created == 150
    assert [c.query["page"] for c in calls(sandbox, "GET", "host/members")[-2:]] == ["1", "2"]
    assert SyncState.objects.get(sync_name="members").cursor is None


def test_pages_are_written_together_and_a_push_sent_while_they_are_read_is_kept(sandbox, run):
    for n in range(250):
        sandbox.member_put(1001 + n, firstName=f"M{n}", lastName="X", tags=[])
    run("tags")
    run("members")
    run("tag-push")  # the push cursor starts
    ana = Client.objects.get(external_id="1001")  # on the first page (never seen, lowest id)
    client_tags_change(client_ids={ana.pk}, tag=Tag.objects.get(name="door-access"), add=True,
                       reason="Sequence: Yoga", source="sequence")
    route = next(n for n, (method, pattern, _) in enumerate(sandbox.routes)
                 if method == "GET" and pattern.pattern == "host/members")
    method, pattern, members_list = sandbox.routes[route]

    def pushed_while_read(request):  # the push goes out after the first page was read
        if request.query.get("page") == "1":
            assert run("tag-push").created == 1
        return members_list(request)

    sandbox.routes[route] = (method, pattern, pushed_while_read)
    result = run("members")
    assert result.pages == 1 and result.unchanged == 250  # three pages, one transaction
    assert sandbox.member_tag_ids(1001) == {2}
    assert tag_names("1001") == {"door-access"}  # the first page predates the push: not undone


@pytest.mark.parametrize("sync_name", ["members", "bought-memberships", "sessions"])
def test_a_page_costs_the_same_queries_whatever_its_size(sandbox, run, sync_name):
    from datetime import UTC, datetime, timedelta

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def one_page(first: int, size: int) -> int:
        for n in range(first, first + size):
            sandbox.member_put(n, firstName=f"M{n}", lastName="X", tags=[1 + n % 2],
                               lastSeen=datetime.now(UTC) - timedelta(minutes=n))
            sandbox.bought_add(n, 14, eventCreditsLeft=n % 10)
            session = sandbox.session_add(name="Spin", start=datetime.now(UTC) + timedelta(hours=1 + n % 50))
            sandbox.booking_add(session["id"], n)
        for before in {"members": [], "sessions": ["members"]}.get(sync_name, ["members", "memberships"]):
            run(before)
        with CaptureQueriesContext(connection) as queries:
            result = run(sync_name)
        assert result.created >= size and result.pages == 1
        return len(queries)

    one_page(1000, 3)  # logs in and meets the tags first
    assert one_page(2000, 3) == one_page(3000, 19)
