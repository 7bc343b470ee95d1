"""Issue 15's scenario: clients hold a SubTypeID with no package; the manager creates the
package (the admin's add form, the catalogue page, an import) and they hold it at once."""

import tempfile
from datetime import datetime, timedelta

import pytest
from django.contrib import admin
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from import_export.formats.base_formats import CSV

from clients.models import LocationTier
from integrations.audits import audit_run
from integrations.models import PendingRecord
from packages.models import ClientPackage, Package
from tests.integrations.gladstone.conftest import add_member, sync

pytestmark = pytest.mark.django_db
START = datetime.now().replace(microsecond=0) - timedelta(days=3)


@pytest.fixture(autouse=True)
def upload_folder(tmp_path, monkeypatch):
    """Keep the admin's uploaded import files out of /tmp."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))


def holders(gladstone, sub_type_id, count) -> list[str]:
    refs = []
    for n in range(count):
        member_id = add_member(gladstone, forename=f"Holder{n}", surname=sub_type_id, email=f"h{n}@example.com")
        refs.append(gladstone.subscription_put(member_id, sub_type_id=sub_type_id, site_id="UB",
                                               start_date=START, end_date=START + timedelta(days=90)))
    return refs


def package_add(manager_client, alt_id, name="From the admin"):
    response = manager_client.post("/admin/packages/package/add/", {
        "name": name, "alt_id": alt_id, "kind": "membership", "credits": "", "is_active": "on"})
    assert response.status_code == 302, response.content.decode()[:2000]


def test_seventy_clients_hold_the_package_the_moment_the_manager_creates_it(gladstone, integration, manager_client):
    refs = holders(gladstone, "CLASS10", 70)
    run = sync(integration)
    assert not ClientPackage.objects.filter(alt_id__in=refs).exists()
    assert "CLASS10: 70 subscription(s) without a package; creating a package with this alt ID" in run.report
    audit = audit_run(integration=integration)
    assert "creating the package assigns it to these 70 client(s) at once" in mail.outbox[0].body
    assert "next sync" not in mail.outbox[0].body and audit.failed == 70

    package_add(manager_client, "CLASS10", "10 classes")

    held = ClientPackage.objects.filter(alt_id__in=refs, package__alt_id="CLASS10", status="active")
    assert held.count() == 70  # at once: no sync, no initial sync
    assert set(held.values_list("location__alt_id", flat=True)) == {"UB"}
    assert not PendingRecord.objects.exists()
    again = audit_run(integration=integration)
    assert again.failed == 0 and len(mail.outbox) == 1 and "have a matching package" in again.report
    assert sync(integration).created == 0  # the next sync has nothing left to assign


def test_the_finding_stays_until_the_clients_hold_the_package(gladstone, integration):
    refs = holders(gladstone, "CLASS10", 2)
    sync(integration)
    # A package made past the signals (raw SQL, a restore): the audit places before it reports.
    Package.objects.bulk_create([Package(alt_id="CLASS10", name="10 classes")])
    assert not ClientPackage.objects.filter(alt_id__in=refs).exists()
    run = audit_run(integration=integration)
    assert run.failed == 0 and mail.outbox == []
    assert ClientPackage.objects.filter(alt_id__in=refs, package__alt_id="CLASS10").count() == 2


def test_ptpk02_holders_get_ptpk01_with_tier_02_when_the_manager_creates_it(gladstone, integration, manager_client):
    Package.objects.filter(alt_id__in=["PTPK", "PTPK01"]).delete()
    refs = holders(gladstone, "PTPK02", 3)
    sync(integration)
    assert set(PendingRecord.objects.values_list("package_wanted", flat=True)) == {"PTPK02"}

    package_add(manager_client, "PTPK01", "Peak time")

    held = ClientPackage.objects.filter(alt_id__in=refs).select_related("package", "tier")
    assert {(cp.package.alt_id, cp.tier.alt_id) for cp in held} == {("PTPK01", "02")} and len(held) == 3
    assert not PendingRecord.objects.exists()


def test_a_tier_created_after_the_sync_is_assigned_at_once(gladstone, integration, manager_client):
    LocationTier.objects.filter(alt_id="02").delete()
    refs = holders(gladstone, "PTPK02", 2)
    run = sync(integration)
    held = ClientPackage.objects.filter(alt_id__in=refs)
    assert {(cp.package.alt_id, cp.tier_id) for cp in held} == {("PTPK01", None)}  # access now, tier later
    assert "2 subscription(s) hold their package without the location tier they name" in run.report
    response = manager_client.post("/admin/clients/locationtier/add/", {"name": "Peak", "alt_id": "02"})
    assert response.status_code == 302
    assert {cp.tier.alt_id for cp in ClientPackage.objects.filter(alt_id__in=refs)} == {"02"}
    assert not PendingRecord.objects.exists()


def test_the_catalogues_create_missing_places_the_waiting_holders(gladstone, integration, manager_client):
    refs = holders(gladstone, "CLASS10", 4)
    sync(integration)
    manager_client.post(f"/admin/integrations/integration/{integration.pk}/catalogue/")
    assert Package.objects.filter(alt_id="CLASS10").exists()
    assert ClientPackage.objects.filter(alt_id__in=refs, package__alt_id="CLASS10").count() == 4


def test_an_import_of_packages_places_the_waiting_holders(gladstone, integration, manager_client):
    refs = holders(gladstone, "CLASS10", 3)
    sync(integration)
    upload = b"alt_id,name,kind,credits,tags,is_active\nCLASS10,10 classes,membership,,,1\n"
    formats = admin.site._registry[Package].get_import_formats()
    preview = manager_client.post(reverse("admin:packages_package_import"), {
        "resource": "0", "format": str(formats.index(CSV)),
        "import_file": SimpleUploadedFile("packages.csv", upload)})
    manager_client.post(reverse("admin:packages_package_process_import"), preview.context["confirm_form"].initial)
    assert Package.objects.filter(alt_id="CLASS10").exists()
    assert ClientPackage.objects.filter(alt_id__in=refs, package__alt_id="CLASS10").count() == 3


def test_a_subscription_gone_at_gladstone_stops_waiting(gladstone, integration):
    [ref] = holders(gladstone, "CLASS10", 1)
    sync(integration)
    member_id = int(PendingRecord.objects.get().client.external_id)
    del gladstone.subscriptions[member_id][ref]  # ended and removed at Gladstone
    gladstone.member_put(member_id, surname="Changed")
    sync(integration)
    assert not PendingRecord.objects.exists()
