"""Glofox memberships never wait for a package: the members sync creates the package a
membership type needs (its name and kind from the member's membership) in the same page,
so the holders hold it in that run and the back-fill keeps nothing for Glofox."""

import pytest

from integrations.glofox.sandbox import UNLIMITED
from integrations.models import PendingRecord
from integrations.sync import sync_run
from packages.models import ClientPackage, Package

pytestmark = pytest.mark.django_db


def test_a_membership_without_a_package_gets_one_in_the_same_run(glofox, configuration):
    Package.objects.filter(alt_id=f"glofox_{UNLIMITED}").delete()  # as if the manager removed it
    holders = [glofox.member_add(membership=UNLIMITED) for _ in range(3)]
    run = sync_run(integration=configuration.integration, sync_name="members")
    held = ClientPackage.objects.filter(client__external_id__in=[m["_id"] for m in holders])
    assert {cp.package.alt_id for cp in held} == {f"glofox_{UNLIMITED}"} and held.count() == 3
    assert not PendingRecord.objects.exists()
    assert "without a package" not in run.report and "next sync" not in run.report


def test_a_package_the_manager_made_first_is_the_one_holders_get(glofox, configuration, manager_client):
    Package.objects.filter(alt_id=f"glofox_{UNLIMITED}").delete()
    response = manager_client.post("/admin/packages/package/add/", {
        "name": "Unlimited (our name)", "alt_id": f"glofox_{UNLIMITED}", "kind": "membership", "credits": "",
        "is_active": "on"})
    assert response.status_code == 302
    member = glofox.member_add(membership=UNLIMITED)
    sync_run(integration=configuration.integration, sync_name="members")
    held = ClientPackage.objects.get(client__external_id=member["_id"])
    assert held.package.name == "Unlimited (our name)" and Package.objects.filter(
        alt_id=f"glofox_{UNLIMITED}").count() == 1
