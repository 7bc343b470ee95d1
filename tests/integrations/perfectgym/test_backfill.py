"""Contracts and member products that wait: for their package (the manager creates it in
the admin) or for a location carrying their club number (the manager enters it)."""

import pytest

from clients.models import Location
from integrations.models import PendingRecord
from packages.models import ClientPackage
from tests.factories import PackageFactory
from tests.integrations.perfectgym.conftest import initial, run

pytestmark = pytest.mark.django_db


def test_member_products_get_their_package_and_credits_when_the_manager_creates_it(
        sandbox, integration, manager_client):
    PackageFactory(alt_id="payment_plan_24")
    member = sandbox.member_put(firstName="Pack", homeClubId=1)
    product = sandbox.member_product_put(memberId=member["id"], clubId=1, productId=77, currentQuantity=6)
    runs = initial(integration, "UB")
    assert ("product_77: 1 member product(s) without a package; creating a package with this alt ID "
            "(the catalogue can) assigns it to these 1 client(s) at once.") in runs[2].report
    assert not ClientPackage.objects.filter(alt_id=f"member_product_{product['id']}").exists()

    response = manager_client.post("/admin/packages/package/add/", {
        "name": "Six pack", "alt_id": "product_77", "kind": "credit_pack", "credits": "6", "is_active": "on"})
    assert response.status_code == 302

    held = ClientPackage.objects.select_related("client", "location").get(alt_id=f"member_product_{product['id']}")
    assert (held.client.external_id, held.credits_remaining, held.location.alt_id) == (str(member["id"]), 6, "UB")
    assert not PendingRecord.objects.filter(package_wanted="product_77").exists()
    assert "product_77" not in run(integration, "member_products").report


def test_a_contract_at_a_club_no_location_carries_gets_it_when_the_number_is_entered(sandbox, integration):
    PackageFactory(alt_id="payment_plan_24")
    member = sandbox.member_put(firstName="Roamer", homeClubId=1)
    contract = sandbox.contract_put(memberId=member["id"], clubId=9)  # head office: no Location yet
    run(integration, "members")
    report = run(integration, "contracts").report
    held = ClientPackage.objects.get(alt_id=f"contract_{contract['id']}")
    assert held.location is None and held.status == "active"  # access now, the location later
    assert "hold their package without a location" in report
    head_office = Location.objects.create(name="Head office", alt_id="HQ")
    head_office.integration_numbers = {"perfectgym_club": "9"}
    head_office.save()
    held.refresh_from_db()
    assert held.location == head_office
    assert not PendingRecord.objects.filter(reference=held.alt_id).exists()


def test_a_contract_deleted_at_perfect_gym_stops_waiting(sandbox, integration):
    member = sandbox.member_put(firstName="Gone", homeClubId=1)
    contract = sandbox.contract_put(memberId=member["id"], clubId=1, paymentPlanId=88)
    run(integration, "members")
    run(integration, "contracts")
    assert PendingRecord.objects.get(package_wanted="payment_plan_88").reference == f"contract_{contract['id']}"
    sandbox.delete("Contracts", contract["id"])
    run(integration, "contracts")
    assert not PendingRecord.objects.filter(package_wanted="payment_plan_88").exists()
    PackageFactory(alt_id="payment_plan_88")
    assert not ClientPackage.objects.filter(alt_id=f"contract_{contract['id']}").exists()
