"""Members sync: every client of the branch, memberships as client packages, incrementally."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accessctl.models import AccessRule
from accessctl.selectors import Window, access_expected
from clients.models import Client
from integrations.glofox.sandbox import BRANCH_ID, CLASSES, PACK, PAYG, UNLIMITED
from integrations.models import SyncIssue, SyncRun
from integrations.sync import sync_run
from packages.models import ClientPackage, Package

pytestmark = pytest.mark.django_db


def members_sync(integration, **options):
    return sync_run(integration=integration, sync_name="members", options=options)


def package_of(member_id):
    return ClientPackage.objects.get(client__external_id=member_id)


def test_every_client_of_the_branch_becomes_a_client_at_the_configured_location(glofox, configuration, location):
    active = glofox.member_add(membership=UNLIMITED, first_name="Ada", email="ada@example.com")
    lead = glofox.member_add(membership=None, type="lead", first_name="Lee")
    run = members_sync(configuration.integration)
    assert run.status == SyncRun.Status.SUCCEEDED and run.created == 2
    ada = Client.objects.get(source=configuration.integration.source, external_id=active["_id"])
    assert (ada.first_name, ada.email, ada.home_location) == ("Ada", "ada@example.com", location)
    assert Client.objects.get(external_id=lead["_id"]).packages.count() == 0
    held = package_of(active["_id"])
    assert held.package.alt_id == f"glofox_{UNLIMITED}" and held.status == ClientPackage.Status.ACTIVE
    assert held.alt_id == f"glofox_um_{active['membership']['user_membership_id']}"
    assert held.location == location


def test_the_calls_carry_the_three_headers(glofox, configuration):
    glofox.member_add()
    members_sync(configuration.integration)
    call = next(c for c in glofox.calls if c.path == "2.0/members")
    assert call.header("x-glofox-branch-id") == BRANCH_ID
    assert call.header("x-api-key") and call.header("x-glofox-api-token")
    assert call.query["limit"] == "100"


def test_active_only_when_status_active_and_now_between_start_and_expiry(glofox, configuration):
    now = datetime.now(UTC)
    current = glofox.member_add(status="ACTIVE")
    future = glofox.member_add(status="ACTIVE", start=now + timedelta(days=2))
    over = glofox.member_add(status="ACTIVE", start=now - timedelta(days=40), expiry=now - timedelta(days=1))
    cancelled = glofox.member_add(status="CANCELED")
    paused = glofox.member_add(status="PAUSED")
    members_sync(configuration.integration)
    assert package_of(current["_id"]).status == ClientPackage.Status.ACTIVE
    assert package_of(future["_id"]).status == ClientPackage.Status.ACTIVE  # from its start on
    assert package_of(future["_id"]).start == (now + timedelta(days=2)).replace(microsecond=0)
    assert package_of(over["_id"]).status == ClientPackage.Status.EXPIRED
    assert package_of(cancelled["_id"]).status == ClientPackage.Status.CANCELLED
    assert package_of(paused["_id"]).status == ClientPackage.Status.EXPIRED
    holders = set(access_expected())
    assert holders == {Client.objects.get(external_id=current["_id"]).pk}
    assert Client.objects.get(external_id=future["_id"]).pk in access_expected(now=now + timedelta(days=3))


def test_types_not_selected_are_not_imported_and_credit_packs_only_with_bookings(
        glofox, integration, group, place):
    from tests.integrations.glofox.conftest import configure

    configure(integration, group, place, types=[UNLIMITED], bookings=False)
    classes, pack, payg = (glofox.member_add(membership=m) for m in (CLASSES, PACK, PAYG))
    members_sync(integration)
    assert Client.objects.filter(source=integration.source).count() == 3
    assert not ClientPackage.objects.exists()
    assert {p.alt_id for p in Package.objects.all()} == {f"glofox_{UNLIMITED}"}
    assert {classes["_id"], pack["_id"], payg["_id"]} == set(
        Client.objects.values_list("external_id", flat=True))


def test_with_bookings_enabled_credit_packs_and_payg_get_packages_of_their_kind(glofox, configuration):
    pack, payg = glofox.member_add(membership=PACK), glofox.member_add(membership=PAYG)
    members_sync(configuration.integration)
    assert package_of(pack["_id"]).package.kind == Package.Kind.CREDIT_PACK
    assert package_of(payg["_id"]).package.kind == Package.Kind.PAY_AS_YOU_GO
    rule = AccessRule.objects.get(owner=configuration.owner, reason=AccessRule.Reason.BOOKING)
    assert {p.alt_id for p in rule.packages.all()} == {f"glofox_{PACK}", f"glofox_{PAYG}"}
    assert access_expected() == {}  # no booking yet: no access


def test_lapsed_membership_expires_and_wakes_the_door_system(glofox, configuration):
    member = glofox.member_add()
    members_sync(configuration.integration)
    client = Client.objects.get(external_id=member["_id"])
    assert access_expected()[client.pk] == {configuration.kisi_group_id: Window()}
    glofox.membership_set(member["_id"], membership=UNLIMITED, status="EXPIRED")
    run = members_sync(configuration.integration)
    assert run.updated == 1
    assert package_of(member["_id"]).status == ClientPackage.Status.EXPIRED
    assert access_expected() == {}
    assert Client.objects.get(pk=client.pk).is_active  # the client stays


def test_a_new_membership_replaces_the_previous_one(glofox, configuration):
    member = glofox.member_add(membership=PACK)
    members_sync(configuration.integration)
    glofox.membership_set(member["_id"], membership=UNLIMITED)
    members_sync(configuration.integration)
    statuses = dict(ClientPackage.objects.values_list("package__alt_id", "status"))
    assert statuses == {f"glofox_{PACK}": "expired", f"glofox_{UNLIMITED}": "active"}


def test_soft_deleted_client_is_deleted_recoverably_and_loses_access(glofox, configuration):
    member = glofox.member_add()
    members_sync(configuration.integration)
    glofox.member_put(member["_id"], active=False)
    members_sync(configuration.integration)
    client = Client.all_objects.get(external_id=member["_id"])
    assert client.is_deleted and package_of(member["_id"]).status == ClientPackage.Status.EXPIRED


def test_incremental_reads_only_what_changed_since_the_last_pass(glofox, configuration):
    first, second = glofox.member_add(), glofox.member_add()
    for member in (first, second):
        member["modified"] -= 3600
    members_sync(configuration.integration)
    glofox.calls.clear()
    glofox.member_put(second["_id"], first_name="Renamed")
    run = members_sync(configuration.integration)
    call = next(c for c in glofox.calls if c.path == "2.0/members")
    assert int(call.query["utc_modified_start_date"]) > first["modified"]
    assert run.updated == 1 and run.unchanged == 0
    assert Client.objects.get(external_id=second["_id"]).first_name == "Renamed"


def test_pages_through_everything_with_a_constant_number_of_queries_per_page(glofox, configuration):
    for _ in range(250):
        glofox.member_add(membership=PACK)
    with CaptureQueriesContext(connection) as queries:
        run = members_sync(configuration.integration)
    assert run.pages == 3 and Client.objects.count() == 250 and ClientPackage.objects.count() == 250
    glofox.member_add(membership=PACK)
    with CaptureQueriesContext(connection) as fewer:
        members_sync(configuration.integration, initial=True)
    # 251 members over 3 pages again: the per-page work does not grow with the rows.
    assert len(fewer) <= len(queries) + 6


def test_a_failed_page_resumes_where_it_stopped(glofox, configuration):
    for _ in range(250):
        glofox.member_add()
    glofox.inject(status=401, path=r"2\.0/members$", skip=2)  # not the catalogue (2.0/memberships)
    failed = members_sync(configuration.integration)
    assert failed.status == SyncRun.Status.FAILED and Client.objects.count() == 200
    assert "glofox-sandbox" not in failed.error  # no secret in the error
    glofox.calls.clear()
    members_sync(configuration.integration)
    pages = [c.query["page"] for c in glofox.calls if c.path == "2.0/members"]
    assert pages == ["3"] and Client.objects.count() == 250


def test_a_bad_member_becomes_an_issue_and_the_page_goes_on(glofox, configuration):
    for _ in range(3):
        glofox.member_add()
    glofox.inject(malformed=True, path="2.0/members")
    run = members_sync(configuration.integration)
    assert run.failed == 1 and Client.objects.count() == 2
    assert "membership dates" in SyncIssue.objects.get().reason


def test_members_who_leave_the_window_while_paging_are_not_skipped(glofox, configuration):
    members = [glofox.member_add() for _ in range(250)]
    for member in members:
        member["modified"] -= 3600
    original = glofox.members_list

    def moving(request):
        answer = original(request)
        if request.query.get("page") == "1":
            # A member on page 1 changes after we read it: it leaves the pass's window.
            members[0]["modified"] = glofox.clock() + 3600
        return answer

    glofox.routes = [(m, p, moving if h == original else h) for m, p, h in glofox.routes]
    members_sync(configuration.integration, initial=True)
    assert Client.objects.count() == 250


def test_selecting_another_membership_type_reads_the_branch_in_full(glofox, configuration):
    holder = glofox.member_add(membership=CLASSES)
    holder["modified"] -= 3600
    members_sync(configuration.integration)
    assert not ClientPackage.objects.exists()  # not a selected type
    configuration.membership_types = [UNLIMITED, CLASSES]
    configuration.save()
    glofox.calls.clear()
    members_sync(configuration.integration)
    call = next(c for c in glofox.calls if c.path == "2.0/members")
    assert "utc_modified_start_date" not in call.query  # nobody modified the holder: read all
    assert package_of(holder["_id"]).status == ClientPackage.Status.ACTIVE


def test_a_full_pass_runs_once_a_day(glofox, configuration):
    from integrations.models import SyncState

    glofox.member_add()
    members_sync(configuration.integration)
    members_sync(configuration.integration)
    state = SyncState.objects.get(integration=configuration.integration, sync_name="members")
    assert "utc_modified_start_date" in [c for c in glofox.calls if c.path == "2.0/members"][-1].query
    state.cursor[BRANCH_ID]["full_at"] -= 25 * 3600
    state.save()
    glofox.calls.clear()
    members_sync(configuration.integration)
    assert "utc_modified_start_date" not in next(c for c in glofox.calls if c.path == "2.0/members").query


def test_sync_this_member_now_reads_one_member_at_its_branch(glofox, configuration):
    from integrations.connectors import connector_for

    member = glofox.member_add(membership=UNLIMITED, first_name="Ada")
    members_sync(configuration.integration)
    glofox.member_put(member["_id"], first_name="Adele")
    connector_for(configuration.integration).client_sync(member["_id"])
    assert Client.objects.get(external_id=member["_id"]).first_name == "Adele"
