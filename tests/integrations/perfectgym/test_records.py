"""Typed records from the client, and members a page refers to fetched through the engine."""

import pytest

from clients.models import Client
from integrations.errors import BadRecord
from integrations.models import SyncIssue, SyncRun
from integrations.perfectgym.client import Contract, Member, MemberClubVisit, PaymentPlan, PerfectGymClient
from integrations.perfectgym.clubs import Clubs
from integrations.perfectgym.mapping import contract_holding, member_record
from integrations.perfectgym.sandbox import CLIENT_ID, CLIENT_SECRET
from packages.models import ClientPackage
from tests.factories import PackageFactory
from tests.integrations.perfectgym.conftest import PG_URL, initial, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(sandbox):
    return PerfectGymClient(base_url=PG_URL, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)


def test_rows_come_as_records_holding_what_was_sent_and_the_body(sandbox, api):
    odd = sandbox.member_put(firstName=7, homeClubId="two", isActive=False)
    member = api.entity("Members", odd["id"])
    assert isinstance(member, Member)
    assert (member.first_name, member.home_club_id, member.active, member.deleted) == (7, "two", False, False)
    assert member.payload["email"] == odd["email"] and member.key == str(odd["id"])
    changed = [r for page in api.changes("Members", after=odd["version"] - 1) for r in page.rows]
    assert changed == [member] and changed[0].payload == odd  # the body as the collection sent it
    plan = next(p for p in api.rows("PaymentPlans") if p.id == 24)
    sent = sandbox.sets["PaymentPlans"].rows[24]
    assert isinstance(plan, PaymentPlan) and (plan.name, plan.interval_months, plan.interval_days) == (
        sent["name"], sent["paymentInterval"].get("months"), sent["paymentInterval"].get("days"))
    assert all(isinstance(v, MemberClubVisit) for v in api.rows("MemberClubVisits"))


def test_a_body_that_is_not_an_object_is_refused_by_mapping_with_the_body_kept():
    with pytest.raises(BadRecord) as refused:
        contract_holding(Contract.from_api(["not", "a", "row"]), clubs=Clubs())
    assert (refused.value.reason, refused.value.key, refused.value.payload) == (
        "The row has no numeric id.", "", ["not", "a", "row"])
    with pytest.raises(BadRecord) as empty:
        member_record(Member.from_api({}), clubs=Clubs(), identity_type_id=None)
    assert empty.value.payload == {"body": {}}  # an empty body still makes a storable issue


def test_a_malformed_member_is_the_same_issue_with_the_vendors_body(sandbox, integration):
    sandbox.inject(malformed=True, path="odata/Members")
    result = run(integration, "members")
    first = min(sandbox.sets["Members"].rows.values(), key=lambda m: m["version"])
    issue = SyncIssue.objects.get()
    assert (result.failed, issue.record_key, issue.reason) == (1, str(first["id"]), "The member has no first name.")
    assert issue.payload == {**first, "firstName": None}


def test_a_malformed_contract_is_the_same_issue_with_the_vendors_body(sandbox, integration):
    PackageFactory(alt_id="payment_plan_24")
    run(integration, "members")
    sandbox.inject(malformed=True, path="odata/Contracts")
    run(integration, "contracts")
    first = min(sandbox.sets["Contracts"].rows.values(), key=lambda c: c["version"])
    issue = SyncIssue.objects.get()
    assert (issue.record_key, issue.reason) == (str(first["id"]), "Unknown contract status 'Bogus'.")
    assert issue.payload == {**first, "status": "Bogus"}


def test_a_contract_page_referring_to_unknown_members_creates_them_in_the_same_run(sandbox, integration):
    PackageFactory(alt_id="payment_plan_24")
    initial(integration)
    newcomer = sandbox.member_put(firstName="Newcomer", homeClubId=2)
    contract = sandbox.contract_put(memberId=newcomer["id"], clubId=2, paymentPlanId=24)
    stranger = sandbox.member_put(firstName="Stranger", homeClubId=2)
    sandbox.contract_put(memberId=stranger["id"], clubId=2, status="Bogus")  # refused: its member is not kept
    calls = len(sandbox.calls)
    result = run(integration, "contracts")
    assert (result.status, result.created, result.failed) == (SyncRun.Status.SUCCEEDED, 1, 1)
    held = ClientPackage.objects.select_related("client").get(alt_id=f"contract_{contract['id']}")
    assert (held.client.first_name, held.client.home_location.alt_id) == ("Newcomer", "SPA")
    assert not Client.objects.filter(external_id=str(stranger["id"])).exists()
    assert "1 client(s) created for members the member sync had not brought yet." in result.report
    fetched = [c for c in sandbox.calls[calls:] if c.path == "odata/Members"]
    assert len(fetched) == 1 and f"id eq {newcomer['id']}" in fetched[0].query["$filter"]


def test_a_member_perfect_gym_returns_unreadable_is_no_issue_of_its_own(sandbox, integration):
    PackageFactory(alt_id="payment_plan_24")
    initial(integration)
    nameless = sandbox.member_put(firstName=None, homeClubId=1)
    contract = sandbox.contract_put(memberId=nameless["id"], clubId=1, paymentPlanId=24)
    result = run(integration, "contracts")
    issue = SyncIssue.objects.get()
    assert (result.failed, result.created, issue.record_key) == (1, 0, str(contract["id"]))
    assert issue.reason.startswith(f"Member {nameless['id']} is not a client and Perfect Gym did not return them")
    assert issue.payload == sandbox.sets["Contracts"].rows[contract["id"]]
    assert "client(s) created" not in result.report


def test_a_visit_of_a_deleted_member_is_an_issue_with_the_visits_body(sandbox, integration):
    initial(integration)
    run(integration, "visits")
    ghost = sandbox.member_put(firstName="Ghost", homeClubId=1)
    sandbox.member_delete(ghost["id"])
    visit = sandbox.visit_add(member_id=ghost["id"], club_id=1)
    result = run(integration, "visits")
    issue = SyncIssue.objects.get()
    assert (result.failed, result.created, issue.record_key) == (1, 0, str(visit["id"]))
    assert f"Member {ghost['id']} is not a client" in issue.reason
    assert issue.payload == sandbox.sets["MemberClubVisits"].rows[visit["id"]]
