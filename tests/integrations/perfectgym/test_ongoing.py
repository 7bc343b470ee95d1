"""The ongoing client sync: changes, deletes, ended contracts, new add-ons, paging, faults."""

import pytest

from clients.models import Client
from integrations.models import SyncIssue, SyncRun
from integrations.perfectgym import sandbox_odata
from packages.models import ClientPackage
from tests.factories import PackageFactory
from tests.integrations.perfectgym.conftest import initial, run

pytestmark = pytest.mark.django_db
CLIENT_SYNCS = ("members", "contracts", "member_products")


@pytest.fixture
def synced(sandbox, integration):
    for alt_id in ("payment_plan_24", "payment_plan_25", "payment_plan_31", "product_26", "product_27"):
        PackageFactory(alt_id=alt_id)
    initial(integration)
    return integration


@pytest.fixture
def notified(monkeypatch):
    """The client ids the engine tells the door systems about."""
    seen: list[set[int]] = []

    def capture(*, client_ids, origin=None):
        seen.append(set(client_ids))
        return 0

    monkeypatch.setattr("integrations.sync.access_changed_notify", capture)
    return seen


def in_scope(sandbox) -> int:
    """How many members have a home club some Location has (all but the head office)."""
    return len([m for m in sandbox.sets["Members"].rows.values() if m["homeClubId"] != 9])


def snapshot():
    return (sorted(Client.all_objects.values_list("external_id", "first_name", "last_name", "email",
                                                  "is_active", "home_location_id", "deleted_at", "updated_at")),
            sorted(ClientPackage.objects.values_list("alt_id", "status", "start", "end", "updated_at")))


def test_a_changed_member_updates_the_client(sandbox, synced, locations, notified):
    sandbox.member_put(11, lastName="Changed", email="changed@pg.example", homeClubId=3)
    result = run(synced, "members")
    assert (result.created, result.updated, result.unchanged) == (0, 1, 0)
    client = Client.objects.get(external_id="11")
    assert (client.last_name, client.email, client.home_location) == (
        "Changed", "changed@pg.example", locations[3])
    assert notified[-1] == {client.pk}


def test_a_deleted_member_becomes_inactive(sandbox, synced):
    sandbox.member_delete(12)
    result = run(synced, "members")
    assert result.updated == 1
    client = Client.all_objects.get(external_id="12")
    assert client.is_active is False and client.is_deleted


def test_new_members_of_known_clubs_arrive_and_others_are_reported(sandbox, synced, locations):
    newcomer = sandbox.member_put(firstName="Newcomer", homeClubId=4)
    sandbox.member_put(firstName="Office", homeClubId=9)
    result = run(synced, "members")
    assert (result.created, result.skipped) == (1, 1)
    assert Client.objects.get(external_id=str(newcomer["id"])).home_location == locations[4]
    assert "club 9: 1 members skipped, no location has this club number" in result.report


def test_an_ended_contract_expires_its_package(sandbox, synced, notified):
    contract = next(c for c in sandbox.sets["Contracts"].rows.values()
                    if c["status"] == "Current" and c["clubId"] != 9 and c["paymentPlanId"] == 24)
    sandbox.contract_end(contract["id"])
    result = run(synced, "contracts")
    assert result.updated == 1
    package = ClientPackage.objects.get(alt_id=f"contract_{contract['id']}")
    assert package.status == "expired" and package.end is not None
    assert notified[-1] == {package.client_id}


def test_a_deleted_contract_expires_its_package(sandbox, synced):
    contract = next(c for c in sandbox.sets["Contracts"].rows.values()
                    if c["status"] == "Current" and c["clubId"] == 1 and c["paymentPlanId"] == 24)
    sandbox.delete("Contracts", contract["id"])
    ended_elsewhere = sandbox.contract_put(memberId=1, clubId=1, paymentPlanId=24)
    sandbox.delete("Contracts", ended_elsewhere["id"])  # never synced: nothing to expire
    result = run(synced, "contracts")
    assert (result.updated, result.skipped) == (1, 1)
    assert ClientPackage.objects.get(alt_id=f"contract_{contract['id']}").status == "expired"
    assert not ClientPackage.objects.filter(alt_id=f"contract_{ended_elsewhere['id']}").exists()


def test_a_new_member_product_adds_a_package(sandbox, synced):
    towels = PackageFactory(alt_id="product_28", credits=10)
    bought = sandbox.member_product_put(memberId=2, clubId=1, productId=28, currentQuantity=7)
    result = run(synced, "member_products")
    assert result.created == 1
    package = ClientPackage.objects.get(alt_id=f"member_product_{bought['id']}")
    assert (package.package, package.client.external_id, package.status, package.credits_remaining) == (
        towels, "2", "active", 7)


def test_running_any_sync_twice_changes_nothing_the_second_time(sandbox, synced):
    sandbox.churn(25)
    for name in (*CLIENT_SYNCS, "visits"):
        run(synced, name)
    before = snapshot()
    for name in (*CLIENT_SYNCS, "visits"):
        again = run(synced, name)
        assert (again.created, again.updated, again.failed, again.pages) == (0, 0, 0, 0), name
        assert again.cursor_before == again.cursor_after
    assert snapshot() == before


def test_an_unchanged_row_touched_in_perfect_gym_writes_nothing(sandbox, synced):
    before = snapshot()
    sandbox.member_put(5)  # a new version, the same data
    result = run(synced, "members")
    assert (result.updated, result.unchanged) == (0, 1)
    assert snapshot() == before


def test_paging_follows_several_next_links(sandbox, integration, monkeypatch, page_per_commit):
    monkeypatch.setattr(sandbox_odata, "PAGE_SIZE", 7)
    result = run(integration, "members")
    in_scope = [m for m in sandbox.sets["Members"].rows.values() if m["homeClubId"] != 9]
    assert result.status == SyncRun.Status.SUCCEEDED and result.created == len(in_scope)
    followed = [c for c in sandbox.calls if c.path == "odata/Members" and "$skiptoken" in c.query]
    assert len(followed) >= 4 and result.pages == len(followed) + 1
    assert result.cursor_after == max(m["version"] for m in sandbox.sets["Members"].rows.values())


def test_a_429_mid_sync_is_waited_out(sandbox, integration, monkeypatch, quick_retries):
    monkeypatch.setattr(sandbox_odata, "PAGE_SIZE", 7)
    sandbox.inject(status=429, retry_after=2, path="odata/Members", skip=3)
    result = run(integration, "members")
    assert result.status == SyncRun.Status.SUCCEEDED
    assert Client.objects.count() == in_scope(sandbox)
    assert 2.0 in quick_retries


def test_a_429_that_lasts_fails_the_run_and_the_next_run_resumes(sandbox, integration, monkeypatch,
                                                               page_per_commit):
    monkeypatch.setattr(sandbox_odata, "PAGE_SIZE", 7)
    sandbox.inject(status=429, retry_after=1, path="odata/Members", skip=3, times=5)
    failed = run(integration, "members")
    assert failed.status == SyncRun.Status.FAILED and "RateLimited" in failed.error
    kept = Client.objects.count()
    assert 0 < kept and failed.pages == 3  # the three pages before the fault stay committed
    resumed = run(integration, "members")
    assert resumed.status == SyncRun.Status.SUCCEEDED and resumed.cursor_before == failed.cursor_after
    assert resumed.created == in_scope(sandbox) - kept


def test_a_malformed_member_becomes_an_issue_while_the_rest_syncs(sandbox, integration):
    sandbox.inject(malformed=True, path="odata/Members")
    result = run(integration, "members")
    first = min(sandbox.sets["Members"].rows.values(), key=lambda m: m["version"])
    in_scope = [m for m in sandbox.sets["Members"].rows.values() if m["homeClubId"] != 9]
    assert result.status == SyncRun.Status.SUCCEEDED and result.failed == 1
    assert result.created == len(in_scope) - 1
    issue = SyncIssue.objects.get()
    assert issue.record_key == str(first["id"]) and "first name" in issue.reason
    assert not Client.objects.filter(external_id=str(first["id"])).exists()


def test_a_malformed_contract_becomes_an_issue(sandbox, synced):
    contract = sandbox.contract_put(memberId=1, clubId=1, paymentPlanId=24)
    sandbox.inject(malformed=True, path="odata/Contracts")
    result = run(synced, "contracts")
    assert result.failed == 1
    assert "Unknown contract status 'Bogus'" in SyncIssue.objects.get(record_key=str(contract["id"])).reason


def test_vendor_pages_are_written_several_to_a_transaction(sandbox, integration, monkeypatch):
    monkeypatch.setattr(sandbox_odata, "PAGE_SIZE", 7)
    monkeypatch.setattr("integrations.perfectgym.syncs.ROWS_PER_COMMIT", 14)
    result = run(integration, "members")
    vendor_pages = len([c for c in sandbox.calls if c.path == "odata/Members" and "version gt" in c.query["$filter"]])
    assert vendor_pages == 6  # 40 members, 7 a page
    assert result.pages == 3 and result.created == in_scope(sandbox)
