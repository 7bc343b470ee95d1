"""The initial member sync: one location or all, packages by alt id, unmatched ones reported."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from clients.models import Client, ClientIdentity
from integrations.models import SyncIssue, SyncRun, SyncState
from packages.models import ClientPackage
from tests.factories import PackageFactory
from tests.integrations.perfectgym.conftest import initial, run

pytestmark = pytest.mark.django_db
ALL_PLANS = ["payment_plan_24", "payment_plan_25", "payment_plan_31",
             "product_26", "product_27", "product_28"]


def members(sandbox, clubs):
    return {m["id"]: m for m in sandbox.sets["Members"].rows.values() if m["homeClubId"] in clubs}


def contracts_of(sandbox, member_ids):
    return {c["id"]: c for c in sandbox.sets["Contracts"].rows.values() if c["memberId"] in member_ids}


@pytest.fixture
def all_packages(db):
    return {alt_id: PackageFactory(alt_id=alt_id) for alt_id in ALL_PLANS}


def test_initial_sync_of_one_location_creates_its_members_and_their_packages(sandbox, integration, locations,
                                                                             customer_number, all_packages):
    runs = initial(integration, "UB")
    assert [r.status for r in runs] == [SyncRun.Status.SUCCEEDED] * 3
    expected = members(sandbox, {1})
    clients = {int(c.external_id): c for c in Client.objects.all()}
    assert set(clients) == set(expected)
    for member_id, member in expected.items():
        client = clients[member_id]
        assert (client.first_name, client.last_name, client.email) == (
            member["firstName"], member["lastName"], member["email"])
        assert client.home_location == locations[1] and client.source == integration.source
        assert client.is_active == member["isActive"]
        identity = ClientIdentity.objects.get(client=client, identity_type=customer_number)
        assert identity.value == member["number"]
    contracts = contracts_of(sandbox, set(expected))
    held = {cp.alt_id: cp for cp in ClientPackage.objects.select_related("package", "client")}
    assert {a for a in held if a.startswith("contract_")} == {f"contract_{i}" for i in contracts}
    for contract_id, contract in contracts.items():
        package = held[f"contract_{contract_id}"]
        assert package.package.alt_id == f"payment_plan_{contract['paymentPlanId']}"
        assert package.client.external_id == str(contract["memberId"])
        assert package.location == locations[1]
        assert package.status == ("active" if contract["status"] in ("Current", "NotStarted") else "expired")
    others = [c for c in sandbox.sets["Contracts"].rows.values() if c["clubId"] == 2]
    assert f"club 2: {len(others)} contracts skipped, not the location this sync covers" in runs[1].report
    products = [p for p in sandbox.sets["MemberProducts"].rows.values() if p["memberId"] in expected]
    assert {a for a in held if a.startswith("member_product_")} == {
        f"member_product_{p['id']}" for p in products}


def test_initial_sync_of_all_locations_leaves_out_clubs_no_location_has(sandbox, integration, all_packages):
    runs = initial(integration)
    assert set(Client.objects.values_list("external_id", flat=True)) == {
        str(i) for i in members(sandbox, {1, 2, 3, 4})}
    head_office = contracts_of(sandbox, set(members(sandbox, {9})))
    assert runs[1].skipped == len(head_office)
    assert f"club 9: {len(head_office)} contracts skipped, no location has this club number" in runs[1].report
    assert not ClientPackage.objects.filter(alt_id__in=[f"contract_{i}" for i in head_office]).exists()


def test_unmatched_plan_is_reported_then_assigned_when_its_package_is_created(sandbox, integration, locations):
    PackageFactory(alt_id="payment_plan_24")
    runs = initial(integration)
    in_scope = contracts_of(sandbox, set(members(sandbox, {1, 2, 3, 4})))
    plan_25 = [i for i, c in in_scope.items() if c["paymentPlanId"] == 25]
    assert plan_25, "the seed gives some members the annual plan"
    holders = {c["memberId"] for i, c in in_scope.items() if i in plan_25}
    assert f"payment_plan_25: {len(plan_25)} contracts without a package" in runs[1].report.splitlines()
    assert (f"payment_plan_25: {len(plan_25)} contract(s) without a package; creating a package with this "
            f"alt ID (the catalogue can) assigns it to these {len(holders)} client(s) at once.") in runs[1].report
    assert "initial sync again" not in runs[1].report
    assert not ClientPackage.objects.filter(alt_id__in=[f"contract_{i}" for i in plan_25]).exists()
    annual = PackageFactory(alt_id="payment_plan_25")  # no sync: creating it places them
    assert set(ClientPackage.objects.filter(package=annual).values_list("alt_id", flat=True)) == {
        f"contract_{i}" for i in plan_25}
    again = initial(integration)
    assert again[1].created == 0 and "payment_plan_25" not in again[1].report


def test_contract_statuses_become_package_statuses(sandbox, integration, all_packages):
    member = sandbox.member_put(firstName="Stat", homeClubId=2)
    now = sandbox.now
    made = {}
    for status in ("Current", "NotStarted", "Ended", "Freezed"):
        start = now + timedelta(days=9 if status == "NotStarted" else -30)
        made[status] = sandbox.contract_put(memberId=member["id"], clubId=2, status=status,
                                            startDate=start.strftime("%Y-%m-%dT%H:%M:%SZ"))
    initial(integration, "SPA")
    got = {s: ClientPackage.objects.get(alt_id=f"contract_{c['id']}") for s, c in made.items()}
    assert {s: cp.status for s, cp in got.items()} == {
        "Current": "active", "NotStarted": "active", "Ended": "expired", "Freezed": "expired"}
    assert got["NotStarted"].start > now and got["Current"].start < now
    assert got["Current"].end is None


def test_a_naive_vendor_time_is_the_clubs_local_time(sandbox, integration, locations, all_packages):
    locations[4].time_zone = "Europe/Dublin"
    locations[4].save()
    member = sandbox.member_put(homeClubId=4)
    contract = sandbox.contract_put(memberId=member["id"], clubId=4, startDate="2025-07-01T09:00:00")
    initial(integration, "DUB")
    start = ClientPackage.objects.get(alt_id=f"contract_{contract['id']}").start
    assert start.isoformat() == "2025-07-01T08:00:00+00:00"  # 09:00 in Dublin's summer time


def test_initial_sync_starts_the_ongoing_sync_where_it_began(sandbox, integration, all_packages):
    initial(integration)
    cursor = SyncState.objects.get(integration=integration, sync_name="members").cursor
    assert cursor == max(m["version"] for m in sandbox.sets["Members"].rows.values())
    ongoing = run(integration, "members")
    assert (ongoing.cursor_before, ongoing.created, ongoing.updated, ongoing.pages) == (cursor, 0, 0, 0)


def test_initial_sync_never_moves_an_ongoing_cursor(sandbox, integration, all_packages):
    first = run(integration, "members")
    sandbox.member_put(3, lastName="Later")
    initial(integration)
    assert SyncState.objects.get(integration=integration, sync_name="members").cursor == first.cursor_after
    assert run(integration, "members").updated == 0  # the initial sync already wrote the change
    assert Client.objects.get(external_id="3").last_name == "Later"


def test_initial_sync_of_a_location_without_club_number_fails_clearly(sandbox, integration, locations):
    locations[3].integration_numbers = {}
    locations[3].save()
    failed = run(integration, "members", initial=True, location="MAN")
    assert failed.status == SyncRun.Status.FAILED
    assert "Location 'MAN' has no Perfect Gym club number" in failed.error
    assert not Client.objects.exists()


def test_initial_sync_from_the_command_line(sandbox, integration, all_packages, capsys):
    call_command("integration", "sync", "Perfect Gym", "--initial", "--location", "SPA")
    out = capsys.readouterr().out
    assert f"members: succeeded; created {len(members(sandbox, {2}))}, updated 0" in out
    assert set(Client.objects.values_list("external_id", flat=True)) == {
        str(i) for i in members(sandbox, {2})}
    runs = SyncRun.objects.order_by("started_at")
    assert [r.sync_name for r in runs] == ["members", "contracts", "member_products"]
    assert all(r.trigger == SyncRun.Trigger.INITIAL and r.options["location"] == "SPA" for r in runs)


def test_a_contract_of_a_member_not_yet_synced_fetches_the_member(sandbox, integration, all_packages):
    contracts = run(integration, "contracts")  # the ongoing contract sync runs before the member sync
    in_scope = members(sandbox, {1, 2, 3, 4})
    assert set(Client.objects.values_list("external_id", flat=True)) == {str(i) for i in in_scope}
    assert f"{len(in_scope)} client(s) created" in contracts.report
    fetches = [c for c in sandbox.calls
               if c.path == "odata/Members" and "id eq" in c.query.get("$filter", "")]
    assert 0 < len(fetches) <= contracts.pages  # a few ids per call, never one call per contract
    assert ClientIdentity.objects.count() == len(in_scope)


def test_a_contract_whose_member_perfect_gym_deleted_becomes_an_issue(sandbox, integration, all_packages):
    ghost = sandbox.member_put(homeClubId=1, firstName="Ghost")
    sandbox.member_delete(ghost["id"])
    contract = sandbox.contract_put(memberId=ghost["id"], clubId=1)
    result = run(integration, "contracts")
    assert result.status == SyncRun.Status.SUCCEEDED and result.failed == 1
    issue = SyncIssue.objects.get()
    assert issue.record_key == str(contract["id"]) and f"Member {ghost['id']} is not a client" in issue.reason
    assert ClientPackage.objects.filter(alt_id__startswith="contract_").count() == result.created > 0


def test_only_locations_with_a_club_number_are_offered_or_accepted(sandbox, integration, admin_client):
    from clients.models import Location

    Location.objects.create(name="Pop-up", alt_id="POP")  # no Perfect Gym club number
    page = admin_client.post("/admin/integrations/integration/", {
        "action": "perform_initial_sync", "_selected_action": [integration.pk]}).content.decode()
    assert 'value="MAN"' in page and 'value="POP"' not in page
    with pytest.raises(CommandError, match="carries no Perfect Gym number"):
        call_command("integration", "sync", integration.name, "--initial", "--location", "POP")
