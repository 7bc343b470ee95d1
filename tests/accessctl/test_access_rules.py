"""Access rules kept by their owner (a member system's configuration), and reasons by owner."""

import pytest

from accessctl.models import AccessRule, KisiGroup
from accessctl.selectors import Window, access_expected
from accessctl.services import access_rule_packages_add, access_rule_set, access_rules_delete
from packages.models import ClientPackage
from tests.factories import ClientPackageFactory, LocationFactory, PackageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def group():
    return KisiGroup.objects.create(kisi_id="g9", name="Members")


def test_set_creates_one_rule_and_names_the_holders(group):
    gold, silver = PackageFactory(), PackageFactory()
    holder = ClientPackageFactory(package=gold).client
    ClientPackageFactory(package=silver, status=ClientPackage.Status.EXPIRED)
    changed = access_rule_set(owner="vendor-1:config-1", reason="package", group=group, package_ids={gold.pk})
    rule = AccessRule.objects.get()
    assert (rule.owner, rule.reason, rule.group) == ("vendor-1:config-1", "package", group)
    assert changed == {holder.pk}


def test_set_again_changes_the_same_rule_and_names_only_who_it_concerns(group):
    gold, silver = PackageFactory(), PackageFactory()
    gold_holder, silver_holder = ClientPackageFactory(package=gold).client, ClientPackageFactory(package=silver).client
    access_rule_set(owner="o", reason="package", group=group, package_ids={gold.pk})
    assert access_rule_set(owner="o", reason="package", group=group, package_ids={gold.pk}) == set()
    assert access_rule_set(owner="o", reason="package", group=group, package_ids={silver.pk}) == {
        gold_holder.pk, silver_holder.pk}
    assert AccessRule.objects.count() == 1
    assert set(AccessRule.objects.get().packages.values_list("pk", flat=True)) == {silver.pk}


def test_new_terms_concern_every_holder_and_no_packages_deletes_the_rule(group):
    pack = PackageFactory(kind="credit_pack")
    holder = ClientPackageFactory(package=pack).client
    location = LocationFactory()
    access_rule_set(owner="o", reason="booking", group=group, package_ids={pack.pk}, location_id=location.pk)
    assert access_rule_set(owner="o", reason="booking", group=group, package_ids={pack.pk},
                           location_id=location.pk, minutes_before=30) == {holder.pk}
    assert AccessRule.objects.get().minutes_before == 30
    assert access_rule_set(owner="o", reason="booking", group=group, package_ids=set()) == {holder.pk}
    assert not AccessRule.objects.exists()


def test_delete_removes_only_the_owners_rules(group):
    gold = PackageFactory()
    holder = ClientPackageFactory(package=gold).client
    access_rule_set(owner="mine", reason="package", group=group, package_ids={gold.pk})
    access_rule_set(owner="theirs", reason="package", group=group, package_ids={gold.pk})
    assert access_rules_delete(owner="mine") == {holder.pk}
    assert list(AccessRule.objects.values_list("owner", flat=True)) == ["theirs"]


def test_packages_are_added_to_an_existing_rule_only(group):
    gold, silver = PackageFactory(), PackageFactory()
    assert access_rule_packages_add(owner="o", reason="booking", package_ids={gold.pk}) == set()
    access_rule_set(owner="o", reason="booking", group=group, package_ids={gold.pk})
    assert access_rule_packages_add(owner="o", reason="booking", package_ids={gold.pk, silver.pk}) == {silver.pk}
    assert AccessRule.objects.get().packages.count() == 2


def test_access_expected_can_count_one_owners_reasons_only(group):
    gold, silver = PackageFactory(), PackageFactory()
    both = ClientPackageFactory(package=gold).client
    ClientPackageFactory(package=silver, client=both)
    other = ClientPackageFactory(package=silver).client
    access_rule_set(owner="glofox-1:config-1", reason="package", group=group, package_ids={gold.pk})
    access_rule_set(owner="momence-2:config-1", reason="package", group=group, package_ids={silver.pk})
    assert set(access_expected()) == {both.pk, other.pk}
    assert access_expected(owners=["glofox-1:config-1"]) == {both.pk: {group.pk: Window()}}
    assert access_expected(owners=[]) == {}
