"""Numbers an integration keeps on each Location (the location's "Integrations" section).

Higher apps register a field at start-up; the Location admin shows it while
`is_shown()` says so (e.g. only while a Perfect Gym integration is active). Values are
stored in `Location.integration_numbers[key]`.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class LocationField:
    key: str
    label: str
    help_text: str
    is_shown: Callable[[], bool]


_fields: dict[str, LocationField] = {}


def location_field_register(field: LocationField) -> None:
    """Declare a per-location number (idempotent by key)."""
    _fields[field.key] = field


def location_fields_shown() -> list[LocationField]:
    """The registered fields the admin should show now."""
    return [f for f in _fields.values() if f.is_shown()]
