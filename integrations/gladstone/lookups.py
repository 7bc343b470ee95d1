"""Club records the Gladstone mapping looks things up in: sites, packages, tiers."""

import zoneinfo
from dataclasses import dataclass
from functools import cached_property

from clients.models import Location, LocationTier
from integrations.gladstone.mapping import PackageIndex, Site
from packages.selectors import packages_by_alt_id


def sites_load() -> dict[str, Site]:
    """Every location by its alt id (the Gladstone SiteID), with its time zone."""
    return {
        alt_id: Site(pk, zoneinfo.ZoneInfo(tz))
        for alt_id, pk, tz in Location.objects.values_list("alt_id", "pk", "time_zone")
    }


def package_index_load() -> PackageIndex:
    """Packages and Location tiers by alt id (two queries)."""
    return PackageIndex(packages_by_alt_id(), dict(LocationTier.objects.values_list("alt_id", "pk")))


@dataclass
class Lookups:
    """Loaded once per sync run, on first use."""

    @cached_property
    def sites(self) -> dict[str, Site]:
        return sites_load()

    @cached_property
    def packages(self) -> PackageIndex:
        return package_index_load()
