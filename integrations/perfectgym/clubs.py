"""What Gatehouse knows about Perfect Gym clubs: the Location (and door) of each club number.

A Location holds its club number in `integration_numbers["perfectgym_club"]`, entered in
its "Integrations" section; the field shows only while a Perfect Gym integration is active.
"""

import zoneinfo
from dataclasses import dataclass, field

from accessctl.models import Door
from clients.location_fields import LocationField, location_field_register
from clients.models import Location
from integrations.models import Integration

CLUB_FIELD = "perfectgym_club"
KIND = "perfectgym"


@dataclass(frozen=True)
class Clubs:
    """Club number -> location id, time zone and door (only clubs whose number is on a Location)."""

    locations: dict[int, int] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)
    zones: dict[int, zoneinfo.ZoneInfo] = field(default_factory=dict)
    doors: dict[int, Door] = field(default_factory=dict)
    by_alt_id: dict[str, int] = field(default_factory=dict)  # location alt id -> club number

    def zone(self, club_id) -> zoneinfo.ZoneInfo:
        return self.zones.get(club_id, zoneinfo.ZoneInfo("UTC"))


def club_number(value) -> int | None:
    """A stored club number as an int (None when it is empty or not a number)."""
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def clubs_load() -> Clubs:
    """Read every Location with a club number and its door (two queries).

    Two locations with one number: the first by id wins. A location with several doors:
    visits go to its first active door by door ID.
    """
    clubs = Clubs()
    for pk, alt_id, name, numbers, zone in Location.objects.order_by("pk").values_list(
        "pk", "alt_id", "name", "integration_numbers", "time_zone"
    ):
        club = club_number((numbers or {}).get(CLUB_FIELD))
        if club is None or club in clubs.locations:
            continue
        clubs.locations[club], clubs.names[club] = pk, name
        clubs.zones[club] = zoneinfo.ZoneInfo(zone or "UTC")
        clubs.by_alt_id[alt_id] = club
    club_of_location = {pk: club for club, pk in clubs.locations.items()}
    for door in Door.objects.filter(is_active=True, location_id__in=club_of_location).order_by("door_id"):
        clubs.doors.setdefault(club_of_location[door.location_id], door)
    return clubs


def locations_with_club():
    """The active Locations that carry a Perfect Gym club number."""
    rows = Location.objects.filter(is_active=True).values_list("pk", "integration_numbers")
    with_number = [pk for pk, numbers in rows if club_number((numbers or {}).get(CLUB_FIELD)) is not None]
    return Location.objects.filter(pk__in=with_number)


def _perfectgym_active() -> bool:
    return Integration.objects.filter(kind=KIND, is_active=True).exists()


def club_field_register() -> None:
    """Show "Perfect Gym club number" on Locations while a Perfect Gym integration is active."""
    location_field_register(LocationField(
        key=CLUB_FIELD, label="Perfect Gym club number",
        help_text="The club's id in Perfect Gym. Members, contracts and visits of this club sync "
                  "to this location.",
        is_shown=_perfectgym_active,
    ))
