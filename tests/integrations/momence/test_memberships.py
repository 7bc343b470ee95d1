"""The membership catalogue -> packages with the kind door payments depend on, and bought
memberships -> client packages with the credits left."""

from datetime import UTC, datetime, timedelta

import pytest

from accessctl.decisions import PAYING_KINDS
from clients.models import Client
from integrations.models import PendingRecord, SyncIssue, SyncRun
from integrations.momence.models import MomenceMember
from packages.models import ClientPackage, Package
from tests.integrations.momence.conftest import calls, grants

pytestmark = pytest.mark.django_db


def test_catalogue_kinds_and_limits(sandbox, run):
    sandbox.memberships[18] = {"id": 18, "name": "4 classes a week", "type": "subscription",
                               "usageLimitForSessions": 4}
    result = run("memberships")
    assert (result.status, result.created) == (SyncRun.Status.SUCCEEDED, 8)
    kinds = dict(Package.objects.values_list("alt_id", "kind"))
    assert kinds == {
        "momence_11": "unlimited", "momence_12": "combined_limit", "momence_13": "separate_limits",
        "momence_14": "credit_pack", "momence_15": "membership", "momence_16": "payg",
        "momence_17": "membership", "momence_18": "separate_limits",
    }
    assert Package.objects.get(alt_id="momence_14").credits == 10


def test_only_packs_unlimited_and_combined_limit_subscriptions_may_pay_at_a_door(sandbox, run):
    run("memberships")
    paying = set(Package.objects.filter(kind__in=PAYING_KINDS).values_list("name", flat=True))
    assert paying == {"Unlimited monthly", "8 visits a month", "10 class pack"}


def test_catalogue_changes_follow_momence_and_unknown_types_are_issues(sandbox, run):
    run("memberships")
    sandbox.memberships[11].update(combinedUsageLimitEnabled=True, combinedUsageLimit=12)
    sandbox.memberships[19] = {"id": 19, "name": "Mystery", "type": "gift"}
    again = run("memberships")
    assert (again.updated, again.unchanged, again.failed) == (1, 6, 1)
    assert Package.objects.get(alt_id="momence_11").kind == "combined_limit"
    assert SyncIssue.objects.get().record_key == "19"


@pytest.fixture
def holders(sandbox, run):
    """Three members, the catalogue synced, and what each bought."""
    for n in range(3):
        sandbox.member_put(1001 + n, firstName=f"M{n}", lastName="Holder",
                           lastSeen=datetime(2025, 5, 1, tzinfo=UTC) + timedelta(days=n))
    sandbox.bought_add(1001, 14, eventCreditsLeft=7)
    sandbox.bought_add(1002, 12, usedSessions=3)  # combined limit 8: 5 left
    sandbox.bought_add(1003, 11, endDate=None)
    run("members")
    run("memberships")
    return sandbox


def held(external_id: str) -> list[ClientPackage]:
    return list(ClientPackage.objects.filter(client__external_id=external_id).select_related("package"))


def test_bought_memberships_become_client_packages_with_credits_left(holders, run):
    result = run("bought-memberships")
    assert (result.status, result.created) == (SyncRun.Status.SUCCEEDED, 3)
    [pack] = held("1001")
    assert (pack.package.alt_id, pack.credits_remaining, pack.status) == ("momence_14", 7, "active")
    assert held("1002")[0].credits_remaining == 5
    [unlimited] = held("1003")
    assert unlimited.end is None and unlimited.credits_remaining is None
    assert len(calls(holders, "GET", "bought-memberships/active")) == 3


def test_only_members_momence_saw_again_are_read_again(holders, run):
    run("bought-memberships")
    holders.bought[1001][0]["eventCreditsLeft"] = 6
    holders.member_put(1001, lastSeen=datetime(2025, 6, 1, tzinfo=UTC))  # booked a class
    run("members")
    again = run("bought-memberships")
    assert again.updated == 1
    read = calls(holders, "GET", "bought-memberships/active")
    assert len(read) == 4 and read[-1].path == "host/members/1001/bought-memberships/active"
    assert held("1001")[0].credits_remaining == 6


def test_a_run_reads_a_bounded_number_of_members(holders, run, integration):
    integration.settings["memberships_per_run"] = 2
    integration.save()
    first = run("bought-memberships")
    assert len(calls(holders, "GET", "bought-memberships/active")) == 2 and first.created == 2
    run("bought-memberships")  # the third one now
    assert len(calls(holders, "GET", "bought-memberships/active")) == 3
    assert ClientPackage.objects.count() == 3


def test_stale_members_are_read_again_daily(holders, run):
    run("bought-memberships")
    MomenceMember.objects.filter(member_id="1003").update(
        memberships_checked_at=datetime.now(UTC) - timedelta(hours=25))
    run("bought-memberships")
    assert calls(holders, "GET", "bought-memberships/active")[-1].path.startswith("host/members/1003/")
    assert len(calls(holders, "GET", "bought-memberships/active")) == 4


def test_frozen_or_ended_memberships_stop_being_active(holders, run):
    run("bought-memberships")
    holders.bought[1001][0]["isFrozen"] = True
    holders.bought[1002].clear()  # no longer active at Momence
    for member_id in (1001, 1002):
        holders.member_put(member_id, lastSeen=datetime(2025, 7, 1, tzinfo=UTC))
    run("members")
    run("bought-memberships")
    assert held("1001")[0].status == "expired" and held("1002")[0].status == "expired"
    assert held("1003")[0].status == "active"


def test_unusable_bought_memberships_are_issues_and_those_without_a_package_wait(holders, run):
    holders.bought_add(1003, 17)  # a patron plan whose package was deleted
    Package.objects.filter(alt_id="momence_17").delete()
    holders.inject(malformed=True, path="host/members/1001/bought-memberships")
    result = run("bought-memberships")
    assert result.failed == 1 and result.created == 2
    reasons = dict(SyncIssue.objects.values_list("record_key", "reason"))
    assert "eventCreditsLeft" in reasons["1001"] and "1003" not in reasons
    assert not held("1001")  # nothing half-written for them
    assert [p.package.alt_id for p in held("1003")] == ["momence_11"]  # the other one does not wait
    assert PendingRecord.objects.get().package_wanted == "momence_17"
    assert Client.objects.get(external_id="1002").packages.count() == 1


@pytest.fixture
def twenty_holders(sandbox, run):
    """Twenty members with a class pack each, the catalogue synced."""
    for n in range(20):
        sandbox.member_put(2000 + n, firstName=f"M{n}", lastName="Holder")
        sandbox.bought_add(2000 + n, 14, eventCreditsLeft=n % 10)
    run("members")
    run("memberships")
    return sandbox


def test_bought_memberships_are_read_several_at_a_time(twenty_holders, run, monkeypatch):
    import threading

    lock, in_flight, most = threading.Lock(), [0], [0]
    handle = twenty_holders.handle

    def counted(request, **options):
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
        try:
            return handle(request, **options)
        finally:
            with lock:
                in_flight[0] -= 1

    monkeypatch.setattr(twenty_holders, "handle", counted)
    twenty_holders.inject(delay=0.05, times=20, path="bought-memberships")  # each answer takes a while
    result = run("bought-memberships", initial=True)
    assert (result.status, result.created) == (SyncRun.Status.SUCCEEDED, 20)
    assert most[0] > 1  # Momence had several of them in hand at once
    assert sorted(ClientPackage.objects.values_list("credits_remaining", flat=True)) == sorted(
        n % 10 for n in range(20))


def test_calls_in_flight_share_one_pacing(twenty_holders, run, momence_sleeps, monkeypatch):
    from integrations import pacing

    class StillClock(pacing.Pacer):  # time stands still: only the recorded waits pace the calls
        def __init__(self, rate, burst=1, **options):
            super().__init__(rate, burst, clock=lambda: 0.0, sleep=options.get("sleep", momence_sleeps.append))

    monkeypatch.setattr(pacing, "Pacer", StillClock)
    momence_sleeps.clear()
    run("bought-memberships", initial=True)
    # 5 calls a second in bursts of 5, whatever the threads: 15 waits of a fifth of a second.
    assert len(momence_sleeps) == 15 and sum(momence_sleeps) == pytest.approx(3.0)


def test_a_token_momence_refuses_mid_run_is_renewed_in_the_runs_thread_and_nothing_is_lost(holders, run):
    """The reading threads never touch the token store (the database): a refused token comes
    back to the run's thread, which renews it and asks those members again."""
    holders.expire_access_tokens()  # Momence now answers 401 to the token the run holds
    result = run("bought-memberships")
    assert (result.status, result.created, result.failed) == (SyncRun.Status.SUCCEEDED, 3, 0)
    assert grants(holders) == ["password", "refresh_token"]  # renewed once, not once per thread
    assert held("1002")[0].credits_remaining == 5
