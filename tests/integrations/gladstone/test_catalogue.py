"""The manager's catalogue page: Gladstone's subscription types of the configured groups."""

import pytest

from integrations.gladstone.client import SubscriptionType
from integrations.gladstone.mapping import PackageIndex, catalogue_entries
from packages.models import Package
from tests.integrations.gladstone.conftest import make_integration

pytestmark = pytest.mark.django_db


def catalogue_url(integration) -> str:
    return f"/admin/integrations/integration/{integration.pk}/catalogue/"


def rows(page: str) -> str:
    start = page.index('<table id="catalogue">')
    return page[start : page.index("</table>", start)]


def row_of(table: str, sub_type_id: str) -> str:
    """The catalogue row whose details name `sub_type_id` (or whose alt id it is)."""
    return next(row for row in table.split("<tr>") if sub_type_id in row)


def test_catalogue_groups_types_the_way_the_sync_assigns_them(gladstone, integration, admin_client):
    table = rows(admin_client.get(catalogue_url(integration)).content.decode())  # PTPK, PTPK01, INITIALPK exist
    assert "<code>PTPK01</code>" in row_of(table, "PTPK02 (tier 02)")  # PTPK02 -> PTPK01, tier 02
    assert "PTPK02" not in row_of(table, "<code>PTPK</code>")


def test_catalogue_lists_the_groups_subscription_types_and_their_packages(
    gladstone, integration, admin_client
):
    Package.objects.filter(alt_id="PTPK01").delete()
    table = rows(admin_client.get(catalogue_url(integration)).content.decode())
    for present in ("PTPK", "INITIALPK"):
        assert f"<code>{present}</code>" in table
    assert "<code>CLASS10</code>" in table and "missing" in table
    # PTPK01 and PTPK02 are tiers of PTPK (it exists), so they show under it, not as packages to create.
    assert "<code>PTPK01</code>" not in table and "PTPK02 (tier 02)" in table
    assert "GYM12" not in table  # group ACCES is not configured
    body = [c.body.decode() for c in gladstone.calls][0]
    assert "<subscriptionTypeGroupIDs><string>FISIK</string></subscriptionTypeGroupIDs>" in body


def test_creating_the_missing_packages_keeps_the_tier_rule_working(gladstone, club, admin_client):
    Package.objects.filter(alt_id__in=["PTPK", "PTPK01"]).delete()
    integration = make_integration()
    page = admin_client.get(catalogue_url(integration)).content.decode()
    assert "Create the 2 missing packages" in page  # the PT family (as PTPK) and CLASS10
    response = admin_client.post(catalogue_url(integration))
    assert response.status_code == 302
    created = set(Package.objects.values_list("alt_id", flat=True))
    assert created == {"INITIALPK", "PTPK", "CLASS10"}  # PTPK01, PTPK02 resolve to PTPK with their tier
    again = admin_client.get(catalogue_url(integration)).content.decode()
    assert "missing</strong>" not in again


def test_catalogue_without_groups_says_what_to_set(gladstone, club, admin_client):
    integration = make_integration(subscription_type_groups=[])
    page = admin_client.get(catalogue_url(integration), follow=True).content.decode()
    assert "Set the SubscriptionTypeGroupIDs" in page and gladstone.calls == []


def test_catalogue_link_is_on_the_integration_list(integration, admin_client):
    page = admin_client.get("/admin/integrations/integration/").content.decode()
    assert catalogue_url(integration) in page


def test_a_tier_family_without_its_head_type_becomes_its_lowest_member():
    types = [
        SubscriptionType("PTPK02", "PT London"),
        SubscriptionType("PTPK01", "PT home"),
        SubscriptionType("SWIM"),
        SubscriptionType("YOGA0"),
    ]
    entries = catalogue_entries(types, PackageIndex({}))
    assert [(e.alt_id, e.name, e.detail) for e in entries] == [
        ("PTPK01", "PT home", "SubTypeIDs PTPK02 (tier 02), PTPK01 (tier 01)"),
        ("SWIM", "SWIM", ""),
        ("YOGA0", "YOGA0", ""),
    ]
