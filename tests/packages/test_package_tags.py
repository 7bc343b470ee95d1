"""Tags a member system puts on packages: they follow it; the club's own tags stay."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from packages.models import PackageTagOrigin
from packages.services import package_tags_import
from tests.factories import PackageFactory, TagFactory

pytestmark = pytest.mark.django_db


def names(package) -> set[str]:
    return set(package.tags.values_list("name", flat=True))


def test_a_source_adds_and_removes_only_the_tags_it_put_there():
    package, mine, club = PackageFactory(), TagFactory(name="vip"), TagFactory(name="front-desk")
    package.tags.add(club)
    assert package_tags_import(source="v-1", source_label="V (one)", tags={package.pk: {mine.pk, club.pk}}) == {
        package.pk}
    assert names(package) == {"vip", "front-desk"}
    assert list(PackageTagOrigin.objects.values_list("tag__name", "source_label")) == [("vip", "V (one)")]
    assert package_tags_import(source="v-1", source_label="V (one)", tags={package.pk: set()}) == {package.pk}
    assert names(package) == {"front-desk"} and not PackageTagOrigin.objects.exists()


def test_a_tag_two_sources_put_on_a_package_stays_until_both_drop_it():
    package, shared = PackageFactory(), TagFactory(name="members")
    package_tags_import(source="v-1", source_label="V (one)", tags={package.pk: {shared.pk}})
    package_tags_import(source="w-2", source_label="W (two)", tags={package.pk: {shared.pk}})
    assert PackageTagOrigin.objects.count() == 2
    package_tags_import(source="v-1", source_label="V (one)", tags={package.pk: set()})
    assert names(package) == {"members"}
    package_tags_import(source="w-2", source_label="W (two)", tags={package.pk: set()})
    assert names(package) == set()


def test_a_renamed_source_is_named_anew_and_the_queries_do_not_grow_with_the_packages():
    packages, tag, other = PackageFactory.create_batch(30), TagFactory(name="vip"), TagFactory(name="staff")
    package_tags_import(source="v-1", source_label="V (old)", tags={p.pk: {tag.pk} for p in packages})
    package_tags_import(source="v-1", source_label="V (new)", tags={p.pk: {tag.pk} for p in packages})
    assert set(PackageTagOrigin.objects.values_list("source_label", flat=True)) == {"V (new)"}
    with CaptureQueriesContext(connection) as few:
        package_tags_import(source="v-1", source_label="V (new)", tags={p.pk: {other.pk} for p in packages[:3]})
    with CaptureQueriesContext(connection) as many:
        assert package_tags_import(source="v-1", source_label="V (new)",
                                   tags={p.pk: {other.pk} for p in packages[3:]}) == {p.pk for p in packages[3:]}
    assert len(many) == len(few)
    assert all(names(p) == {"staff"} for p in packages)
