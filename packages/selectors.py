"""Reads about packages that need thought."""

from packages.models import Package


def packages_by_alt_id() -> dict[str, int]:
    """Every package's id by its alt id (one query; syncs look packages up by alt id)."""
    return dict(Package.objects.values_list("alt_id", "id"))
