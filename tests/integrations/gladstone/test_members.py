"""The member sync through the sandbox: the seed's client rules and the change queue."""

from datetime import date

import pytest
from django.utils import timezone

from clients.models import Client
from integrations.models import SyncIssue, SyncRun, SyncState
from integrations.services import integration_save
from integrations.sync import sync_run
from tests.integrations.gladstone.conftest import add_member, make_integration, sync

pytestmark = pytest.mark.django_db


def client_of(member_id) -> Client:
    return Client.all_objects.get(external_id=str(member_id))


def settings_change(integration, **changes):
    return integration_save(
        integration=integration,
        name=integration.name,
        is_active=integration.is_active,
        settings={**integration.settings, **changes},
        secrets={},
    )


def test_member_becomes_a_client_with_the_seeds_fields(gladstone, integration, club):
    member_id = add_member(
        gladstone,
        forename="Grace",
        surname="Hopper",
        email="grace@example.com",
        dob=date(1985, 12, 9),
        site_id="SPA",
    )
    run = sync(integration)
    client = client_of(member_id)
    assert (client.first_name, client.last_name, client.email) == ("Grace", "Hopper", "grace@example.com")
    assert client.date_of_birth == date(1985, 12, 9)
    assert client.home_location == club["SPA"]
    assert client.alt_id == str(member_id) and client.source == integration.source
    assert client.is_active
    assert (run.created, run.updated) == (1, 0)


def test_status_in_the_list_is_active_and_other_statuses_inactive(gladstone, integration):
    live = add_member(gladstone, status_id="LIVE")
    frozen = add_member(gladstone, status_id="frozen")  # the list is compared case-insensitively
    sync(integration)
    assert client_of(live).is_active and client_of(frozen).is_active
    gladstone.member_put(frozen, status_id="LAPSED")
    sync(integration)
    assert not client_of(frozen).is_active


def test_member_first_seen_inactive_is_not_created(gladstone, integration):
    lapsed = add_member(gladstone, status_id="LAPSED")
    run = sync(integration)
    assert not Client.all_objects.filter(external_id=str(lapsed)).exists()
    assert run.skipped == 1 and run.created == 0


def test_existing_client_becomes_inactive_and_active_again(gladstone, integration):
    member_id = add_member(gladstone)
    sync(integration)
    gladstone.member_put(member_id, status_id="LAPSED")
    sync(integration)
    assert not client_of(member_id).is_active
    gladstone.member_put(member_id, status_id="LIVE")
    sync(integration)
    assert client_of(member_id).is_active


def test_changing_the_status_list_applies_to_members_read_afterwards(gladstone, integration):
    member_id = add_member(gladstone, status_id="TRIAL")
    sync(integration)
    assert not Client.all_objects.filter(external_id=str(member_id)).exists()
    integration = settings_change(integration, active_statuses=["LIVE", "TRIAL"])
    gladstone.member_put(member_id, surname="Trialist")
    sync(integration)
    assert client_of(member_id).is_active and client_of(member_id).last_name == "Trialist"


def test_under_the_minimum_age_is_not_created(gladstone, club):
    integration = make_integration(minimum_age=16)
    today = timezone.localdate()
    young = add_member(gladstone, dob=today.replace(year=today.year - 15))
    adult = add_member(gladstone, dob=today.replace(year=today.year - 16))
    unknown = add_member(gladstone, dob=None)
    run = sync(integration)
    assert not Client.all_objects.filter(external_id=str(young)).exists()
    assert client_of(adult).is_active and client_of(unknown).is_active
    assert run.skipped == 1


def test_existing_client_whose_birth_date_changes_under_age_is_kept(gladstone, club):
    integration = make_integration(minimum_age=18)
    member_id = add_member(gladstone, dob=date(1990, 1, 1))
    sync(integration)
    later = date(timezone.localdate().year - 10, 1, 1)
    gladstone.member_put(member_id, dob=later, surname="Corrected")
    sync(integration)
    client = client_of(member_id)
    assert client.date_of_birth == later and client.last_name == "Corrected" and not client.is_deleted


def test_empty_minimum_age_ignores_age(gladstone, integration):
    baby = add_member(gladstone, dob=timezone.localdate())
    sync(integration)
    assert client_of(baby).is_active


def test_is_deleted_makes_the_client_inactive_when_delete_is_off(gladstone, integration):
    member_id = add_member(gladstone)
    sync(integration)
    gladstone.member_delete(member_id)
    sync(integration)
    client = client_of(member_id)
    assert not client.is_active and not client.is_deleted
    assert Client.objects.filter(pk=client.pk).exists()  # still listed, can be made active again


def test_is_deleted_deletes_the_client_recoverably_when_delete_is_on(gladstone, club):
    integration = make_integration(delete_on_is_deleted=True)
    member_id = add_member(gladstone)
    sync(integration)
    gladstone.member_delete(member_id)
    sync(integration)
    assert not Client.objects.filter(external_id=str(member_id)).exists()
    assert client_of(member_id).is_deleted  # kept, restorable


def test_deleted_member_never_seen_is_not_created(gladstone, club):
    integration = make_integration(delete_on_is_deleted=True)
    member_id = add_member(gladstone, is_deleted=True)
    sync(integration)
    assert not Client.all_objects.filter(external_id=str(member_id)).exists()
    assert "GetMemberSubscriptionsWithDetails" not in gladstone.operations()


def test_unreadable_member_becomes_an_issue_and_the_rest_sync(gladstone, integration):
    members = {add_member(gladstone, forename=name) for name in ("Ada", "Alan")}
    gladstone.inject(malformed=True)  # one of them (the fetches run in parallel) gets a bad DOB
    run = sync(integration)
    issue = SyncIssue.objects.get()
    bad, good = int(issue.record_key), (members - {int(issue.record_key)}).pop()
    assert bad in members and "DOB" in issue.reason
    assert issue.payload["member"]["member_id"] == str(bad) and issue.payload["member"]["password"] == "***"
    assert client_of(good).is_active and not Client.all_objects.filter(external_id=str(bad)).exists()
    assert (run.created, run.failed) == (1, 1)


def test_changes_are_acknowledged_after_the_sync_and_not_read_twice(gladstone, integration):
    member_id = add_member(gladstone)
    sync(integration)
    assert gladstone.queued("Gatehouse") == []
    ops = gladstone.operations()
    assert ops.index("CleanupMemberChanges") > ops.index("GetMemberSubscriptionsWithDetails")
    again = sync(integration)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 0)
    gladstone.member_put(member_id, email="new@example.com")
    assert gladstone.queued("Gatehouse") == [member_id]
    sync(integration)
    assert client_of(member_id).email == "new@example.com"


def test_each_subscriber_has_its_own_queue(gladstone, club):
    member_id = add_member(gladstone)
    first = make_integration("One", system_name="Gatehouse")
    sync(first)
    assert gladstone.queued("Gatehouse") == []
    gladstone.member_put(member_id, surname="Changed")
    assert gladstone.queued("Gatehouse") == [member_id]
    assert gladstone.queued("Other") == []  # not subscribed yet: starts with every member
    second = make_integration("Two", system_name="Other")
    sync(second)
    assert gladstone.queued("Gatehouse") == [member_id]


def test_a_batch_is_acknowledged_only_after_its_last_page_is_committed(gladstone, integration, monkeypatch):
    from integrations.gladstone import syncs

    monkeypatch.setattr(syncs, "PAGE_SIZE", 2)
    gladstone.change_batch = 5
    ids = [add_member(gladstone, surname=f"M{n}") for n in range(7)]
    run = sync(integration)
    ops = gladstone.operations()
    cleanups = [i for i, op in enumerate(ops) if op == "CleanupMemberChanges"]
    reads = [i for i, op in enumerate(ops) if op == "GetMemberChanges"]
    assert len(cleanups) == 2 and len(reads) == 3  # two batches (5 + 2), then an empty read
    assert run.pages == 4 and Client.objects.filter(external_id__in=map(str, ids)).count() == 7
    assert SyncState.objects.get(integration=integration, sync_name="members").cursor == {"run_id": 2}


def test_a_crash_before_commit_replays_the_changes(gladstone, integration, monkeypatch):
    from integrations.gladstone.syncs import MembersSync

    member_id = add_member(gladstone, surname="Before")
    sync(integration)
    gladstone.member_put(member_id, surname="After")
    other = add_member(gladstone, surname="New")

    def crash(self, records):
        raise RuntimeError("worker killed before commit")

    with monkeypatch.context() as patch:
        patch.setattr(MembersSync, "apply", crash)
        with pytest.raises(RuntimeError):
            sync_run(integration=integration, sync_name="members")
    assert SyncRun.objects.filter(status=SyncRun.Status.FAILED).count() == 1
    assert client_of(member_id).last_name == "Before"
    assert sorted(gladstone.queued("Gatehouse")) == sorted([member_id, other])  # not acknowledged
    assert gladstone.operations().count("CleanupMemberChanges") == 1  # only the first run's

    sync(integration)
    assert client_of(member_id).last_name == "After" and client_of(other).last_name == "New"
    assert gladstone.queued("Gatehouse") == []


def test_a_vendor_failure_mid_batch_keeps_committed_pages_and_replays_the_rest(
    gladstone, integration, monkeypatch
):
    from integrations.gladstone import syncs

    monkeypatch.setattr(syncs, "PAGE_SIZE", 2)
    ids = [add_member(gladstone, surname=f"M{n}") for n in range(4)]
    # Page 2's first call fails (read + 2 members x 2 calls come first); a 500 is not retried.
    gladstone.inject(status=500, path="Members", skip=5, times=1)
    run = sync_run(integration=integration, sync_name="members")
    assert run.status == SyncRun.Status.FAILED and "TransientError" in run.error
    assert run.created == 2  # page 1 is kept
    assert len(gladstone.queued("Gatehouse")) == 4  # the batch is not acknowledged
    sync(integration)
    assert gladstone.queued("Gatehouse") == []
    assert Client.objects.filter(external_id__in=map(str, ids)).count() == 4


def test_a_queue_that_ignores_acknowledgements_stops_the_run(gladstone, integration, monkeypatch):
    from integrations.gladstone.sandbox import GladstoneSandbox

    add_member(gladstone)
    monkeypatch.setattr(GladstoneSandbox, "op_CleanupMemberChanges", lambda self, params: None)
    run = sync_run(integration=integration, sync_name="members")
    assert run.status == SyncRun.Status.FAILED and "does not acknowledge" in run.error
    assert gladstone.operations().count("GetMemberChanges") == 4


def test_changes_over_time_reach_only_the_changed_members(integration):

    from integrations.gladstone.sandbox import GladstoneSandbox
    from integrations.sandbox.transports import mounted
    from tests.integrations.gladstone.conftest import GLADSTONE_URL

    fake = GladstoneSandbox(members=30, seed=3)
    with mounted((fake, GLADSTONE_URL)):
        first = sync(integration)
        assert first.created == Client.objects.count() > 0
        changed = fake.members_churn(6)
        assert sorted(fake.queued("Gatehouse")) == sorted(changed)
        fake.calls.clear()
        sync(integration)
    fetched = {c.body.decode().split("<memberId>")[1].split("<")[0] for c in fake.calls if b"<memberId>" in c.body}
    assert fetched == {str(m) for m in changed}
