"""Subscriptions -> client packages, with the tier rule of DESIGN.md and the seed's examples."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from clients.models import Client
from integrations.gladstone.mapping import PackageIndex, tier_alt_id
from integrations.models import PendingRecord
from packages.models import ClientPackage, Package
from tests.integrations.gladstone.conftest import add_member, sync

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
NOW = datetime.now().replace(microsecond=0)


def held(ref) -> ClientPackage:
    return ClientPackage.objects.select_related("package", "tier", "location", "client").get(alt_id=ref)


def subscribe(gladstone, member_id, sub_type_id, *, site="UB", start=None, end=None, **fields) -> str:
    start = start or NOW - timedelta(days=10)
    return gladstone.subscription_put(
        member_id,
        sub_type_id=sub_type_id,
        site_id=site,
        start_date=start,
        end_date=end or start + timedelta(days=365),
        **fields,
    )


def test_ptpk_is_package_ptpk_without_tier(gladstone, integration):
    member_id = add_member(gladstone)
    ref = subscribe(gladstone, member_id, "PTPK")
    sync(integration)
    package = held(ref)
    assert package.package.alt_id == "PTPK" and package.tier is None
    assert package.client == Client.objects.get(external_id=str(member_id))


def test_ptpk02_with_only_ptpk01_is_package_ptpk01_with_tier_02(gladstone, integration):
    Package.objects.filter(alt_id="PTPK").delete()  # the seed's example: PTPK01 is the only PT package
    member_id = add_member(gladstone)
    ref = subscribe(gladstone, member_id, "PTPK02")
    sync(integration)
    package = held(ref)
    assert package.package.alt_id == "PTPK01" and package.tier.alt_id == "02"


def test_initialpk_is_package_initialpk_without_tier(gladstone, integration):
    member_id = add_member(gladstone)
    ref = subscribe(gladstone, member_id, "INITIALPK")
    sync(integration)
    package = held(ref)
    assert package.package.alt_id == "INITIALPK" and package.tier is None


def test_start_location_and_reference_come_from_the_subscription(gladstone, integration, club):
    member_id = add_member(gladstone, site_id="UB")
    start = datetime(2025, 7, 1, 9, 30)
    ref = subscribe(gladstone, member_id, "PTPK", site="SPA", start=start, end=datetime(2099, 1, 1))
    sync(integration)
    package = held(ref)
    assert package.start == start.replace(tzinfo=LONDON)  # Gladstone sends the club's local time
    assert package.start.astimezone(UTC).hour == 8
    assert package.location == club["SPA"] and package.alt_id == ref
    assert package.status == ClientPackage.Status.ACTIVE and package.source == integration.source


def test_later_changes_update_the_same_client_package(gladstone, integration):
    member_id = add_member(gladstone)
    ref = subscribe(gladstone, member_id, "PTPK")
    sync(integration)
    first = held(ref)
    gladstone.subscription_put(member_id, ref, sub_type_id="INITIALPK", site_id="SPA")
    sync(integration)
    assert ClientPackage.objects.count() == 1
    changed = held(ref)
    assert changed.pk == first.pk and changed.package.alt_id == "INITIALPK"


def test_end_date_in_the_past_expires_the_client_package(gladstone, integration):
    member_id = add_member(gladstone)
    ref = subscribe(gladstone, member_id, "PTPK", start=NOW - timedelta(days=30))
    sync(integration)
    assert held(ref).status == ClientPackage.Status.ACTIVE
    gladstone.subscription_put(member_id, ref, end_date=NOW - timedelta(days=1))
    run = sync(integration)
    package = held(ref)
    assert package.status == ClientPackage.Status.EXPIRED and package.end < datetime.now(UTC)
    assert "Client packages: 0 created, 1 updated" in run.report


def test_subscription_without_a_package_waits_and_is_placed_when_the_package_is_created(gladstone, integration):
    member_id = add_member(gladstone)
    ref = subscribe(gladstone, member_id, "CLASS10")
    expired = subscribe(
        gladstone, member_id, "CLASS10", start=NOW - timedelta(days=400), end=NOW - timedelta(days=35)
    )
    sync(integration)
    assert not ClientPackage.objects.exists()
    row = PendingRecord.objects.get()
    assert (row.package_wanted, row.reference, row.client.external_id) == ("CLASS10", ref, str(member_id))
    assert not PendingRecord.objects.filter(reference=expired).exists()  # needs no package
    Package.objects.create(alt_id="CLASS10", name="10 classes")
    assert held(ref).package.alt_id == "CLASS10"  # at once, without a sync
    assert not PendingRecord.objects.exists()


def test_subscriptions_of_members_not_created_are_not_written(gladstone, integration):
    lapsed = add_member(gladstone, status_id="LAPSED")
    subscribe(gladstone, lapsed, "PTPK")
    sync(integration)
    assert not ClientPackage.objects.exists() and not PendingRecord.objects.exists()


def test_new_client_packages_wake_access_reactions(gladstone, integration, monkeypatch):
    from integrations import sync as engine

    woken = []
    monkeypatch.setattr(engine, "access_changed_notify", lambda **kw: woken.append(kw["client_ids"]))
    member_id = add_member(gladstone)
    subscribe(gladstone, member_id, "PTPK")
    sync(integration)
    assert woken == [{Client.objects.get(external_id=str(member_id)).pk}]


# the tier rule on its own (DESIGN.md "Gladstone tiers (corrected)") --------------------
SEED = {"PTPK", "PTPK01", "INITIALPK"}  # the seed's own three examples


@pytest.mark.parametrize(
    ("packages", "sub_type_id", "expected"),
    [
        (SEED, "PTPK", ("PTPK", None)),
        (SEED, "PTPK02", ("PTPK01", "02")),  # the lowest XXXX0Y comes before the first four characters
        (SEED, "INITIALPK", ("INITIALPK", None)),  # 5th character not 0: no tier
        (SEED, "PTPK01", ("PTPK01", "01")),
        ({"PTPK"}, "PTPK02", ("PTPK", "02")),
        ({"PTPK01"}, "PTPK02", ("PTPK01", "02")),
        ({"PTPK03", "PTPK01"}, "PTPK0A", ("PTPK01", "0A")),  # the lowest of XXXX0Y
        ({"PTPK02"}, "PTPK02", ("PTPK02", "02")),  # an exact match keeps its tier
        ({"PTPK01"}, "PTPK12", (None, None)),  # 5th character not 0: exact match only
        ({"PTPK"}, "PTPK12", (None, None)),
        ({"YOGA"}, "YOGA0", (None, None)),  # fewer than 6 characters: exact match only
        ({"PTPK010"}, "PTPK02", (None, None)),  # XXXX0Y is six characters
        (set(), "PTPK", (None, None)),
    ],
)
def test_package_index_follows_the_design_rule(packages, sub_type_id, expected):
    tiers = {"01": 1, "02": 2, "0A": 10}
    index = PackageIndex({alt_id: n for n, alt_id in enumerate(sorted(packages), 1)}, tiers)
    alt_id = index.package_alt_id(sub_type_id)
    assert (alt_id, tier_alt_id(sub_type_id) if alt_id else None) == expected
    package_id, tier_id = index.match(sub_type_id)
    assert package_id == index.packages.get(alt_id)
    assert tier_id == (tiers[expected[1]] if expected[1] else None)


def test_ptpk02_with_the_seeds_packages_is_package_ptpk01_with_tier_02(gladstone, integration):
    member_id = add_member(gladstone)  # the club has PTPK, PTPK01 and INITIALPK
    ref = subscribe(gladstone, member_id, "PTPK02")
    sync(integration)
    package = held(ref)
    assert package.package.alt_id == "PTPK01" and package.tier.alt_id == "02"


def test_ptpk02_with_only_ptpk_is_package_ptpk_with_tier_02(gladstone, integration):
    Package.objects.filter(alt_id="PTPK01").delete()
    member_id = add_member(gladstone)
    ref = subscribe(gladstone, member_id, "PTPK02")
    sync(integration)
    package = held(ref)
    assert package.package.alt_id == "PTPK" and package.tier.alt_id == "02"
