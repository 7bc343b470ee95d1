"""Bought memberships whose membership has no package yet wait, and are held the moment the
package exists: the manager's admin form, or the membership catalogue sync."""

import pytest

from integrations.models import PendingRecord
from integrations.momence.models import MomenceMember
from packages.models import ClientPackage

pytestmark = pytest.mark.django_db


@pytest.fixture
def buyer(sandbox, run):
    sandbox.member_put(2001, firstName="Pat", lastName="Buyer")
    sandbox.bought_add(2001, 12, usedSessions=3)  # 8 visits a month: 5 left
    run("members")
    return sandbox


def test_the_holder_holds_it_when_the_manager_creates_the_package(buyer, run, manager_client):
    result = run("bought-memberships")
    assert not ClientPackage.objects.filter(client__external_id="2001").exists() and result.failed == 0
    assert ("momence_12: 1 bought membership(s) without a package; creating a package with this alt ID "
            "(the catalogue can) assigns it to these 1 client(s) at once.") in result.report

    response = manager_client.post("/admin/packages/package/add/", {
        "name": "8 visits a month", "alt_id": "momence_12", "kind": "combined_limit", "credits": "",
        "is_active": "on"})
    assert response.status_code == 302

    [held] = ClientPackage.objects.filter(client__external_id="2001")
    assert (held.package.alt_id, held.status, held.credits_remaining) == ("momence_12", "active", 5)
    assert not PendingRecord.objects.exists()


def test_the_membership_catalogue_sync_places_them_too(buyer, run):
    run("bought-memberships")
    run("memberships")  # creates momence_12 (and the others) in bulk
    [held] = ClientPackage.objects.filter(client__external_id="2001")
    assert (held.package.alt_id, held.credits_remaining) == ("momence_12", 5)
    assert not PendingRecord.objects.exists()


def test_a_membership_momence_no_longer_lists_stops_waiting(buyer, run):
    run("bought-memberships")
    buyer.bought[2001].clear()
    MomenceMember.objects.update(memberships_checked_at=None)  # due again
    run("bought-memberships")
    assert not PendingRecord.objects.exists()
