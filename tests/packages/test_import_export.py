"""Importing packages and client packages from CSV and XLSX files."""

from datetime import UTC, datetime

import pytest
import tablib
from django.contrib.auth.models import Permission
from django.urls import reverse

from packages.models import ClientPackage, Package
from packages.resources import ClientPackageResource, PackageResource
from tests.factories import (
    ClientFactory,
    LocationFactory,
    PackageFactory,
    TagFactory,
    TierFactory,
)

pytestmark = pytest.mark.django_db

PACKAGES_CSV = (
    "alt_id,name,kind,credits,tags,is_active\n"
    "PTPK01,Peak Time,membership,,gym|pool,1\n"
    "TEN,Ten Pack,credit_pack,10,,1\n"
)
HOLDINGS_HEADER = "id,client,package,location,tier,start,end,status,alt_id,credits_remaining\n"


def csv_dataset(text: str) -> tablib.Dataset:
    return tablib.Dataset().load(text, format="csv")


@pytest.fixture
def club():
    """A client, a package, a location and a tier for client package rows to name."""
    return {
        "client": ClientFactory(), "package": PackageFactory(alt_id="PTPK01"),
        "location": LocationFactory(alt_id="LON"), "tier": TierFactory(alt_id="0A"),
    }


def holding_row(club, start="2025-01-01 00:00:00", end="2025-12-31 00:00:00", tier="0A",
                alt_id="SUB-1") -> str:
    return f",{club['client'].pk},PTPK01,LON,{tier},{start},{end},active,{alt_id},\n"


def test_packages_csv_imports_every_row_with_tags():
    TagFactory(name="gym")
    TagFactory(name="pool")
    result = PackageResource().import_data(csv_dataset(PACKAGES_CSV))
    assert not result.has_errors() and not result.has_validation_errors()
    peak = Package.objects.get(alt_id="PTPK01")
    assert sorted(peak.tags.values_list("name", flat=True)) == ["gym", "pool"]
    assert Package.objects.get(alt_id="TEN").credits == 10


def test_package_file_with_an_unknown_kind_imports_nothing():
    bad = PACKAGES_CSV + "X,Mystery,lifetime,,,1\n"
    result = PackageResource().import_data(csv_dataset(bad))
    assert [row.number for row in result.invalid_rows] == [3]
    assert "kind" in result.invalid_rows[0].error_dict
    assert not Package.objects.exists()


def test_packages_import_from_xlsx():
    book = csv_dataset(PACKAGES_CSV).export("xlsx")
    PackageResource().import_data(tablib.Dataset().load(book, format="xlsx"))
    assert sorted(Package.objects.values_list("alt_id", flat=True)) == ["PTPK01", "TEN"]


def test_client_packages_csv_imports_every_row(club):
    text = HOLDINGS_HEADER + holding_row(club) + holding_row(club, alt_id="SUB-2", tier="")
    result = ClientPackageResource().import_data(csv_dataset(text))
    assert not result.has_errors() and not result.has_validation_errors()
    held = ClientPackage.objects.get(alt_id="SUB-1")
    assert (held.client, held.location.alt_id, held.tier.alt_id) == (club["client"], "LON", "0A")
    assert held.start == datetime(2025, 1, 1, tzinfo=UTC)
    assert ClientPackage.objects.get(alt_id="SUB-2").tier is None


def test_client_package_file_with_a_bad_tier_imports_nothing(club):
    text = HOLDINGS_HEADER + holding_row(club) + holding_row(club, alt_id="SUB-2", tier="1A")
    result = ClientPackageResource().import_data(csv_dataset(text))
    assert [line for line, _ in result.row_errors()] == [2]
    assert "LocationTier matching query does not exist" in str(result.row_errors()[0][1][0].error)
    assert not ClientPackage.objects.exists()


def test_client_package_file_ending_before_it_starts_imports_nothing(club):
    backwards = holding_row(club, alt_id="SUB-2", start="2025-06-01 00:00:00",
                            end="2025-05-01 00:00:00")
    result = ClientPackageResource().import_data(
        csv_dataset(HOLDINGS_HEADER + holding_row(club) + backwards)
    )
    assert [row.number for row in result.invalid_rows] == [2]
    assert result.invalid_rows[0].non_field_specific_errors == [
        "The end must not be before the start."
    ]
    assert not ClientPackage.objects.exists()


def test_client_packages_import_from_xlsx(club):
    book = csv_dataset(HOLDINGS_HEADER + holding_row(club)).export("xlsx")
    ClientPackageResource().import_data(tablib.Dataset().load(book, format="xlsx"))
    assert ClientPackage.objects.get(alt_id="SUB-1").package.alt_id == "PTPK01"


def test_staff_needs_the_import_permission_for_client_packages(client, django_user_model):
    user = django_user_model.objects.create_user("desk", password="pw-Desk-1", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_clientpackage"))
    client.force_login(user)
    import_url = reverse("admin:packages_clientpackage_import")
    assert client.get(import_url).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="import_clientpackage"))
    assert client.get(import_url).status_code == 200
