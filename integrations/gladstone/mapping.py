"""The seed's rules as pure functions: Gladstone records -> neutral club records.

Nothing here touches the database or the network; the sync jobs load the look-ups
(packages, tiers, sites) once and pass them in.
"""

import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from clients.records import ClientRecord
from integrations.connectors import CatalogueEntry
from integrations.errors import BadRecord
from integrations.gladstone.client import Attendance, Member, Subscription, SubscriptionType
from packages.records import ClientPackageRecord


@dataclass(frozen=True)
class Site:
    """A club Location as Gladstone names it (Location alt id = SiteID)."""

    location_id: int
    zone: zoneinfo.ZoneInfo


@dataclass(frozen=True)
class MemberRules:
    """The integration settings the member rules read."""

    active_statuses: frozenset[str]  # casefolded StatusIDs
    delete_on_is_deleted: bool = False
    minimum_age: int | None = None


def comma_list(value) -> list[str]:
    """'A, B,,C' -> ['A', 'B', 'C'] (lists pass through, blanks dropped)."""
    items = value if isinstance(value, (list, tuple)) else str(value or "").split(",")
    return [str(item).strip() for item in items if str(item).strip()]


def flag(value: str) -> bool:
    """An xs:boolean (or a Y/N indicator) as Gladstone sends it."""
    return value.strip().lower() in ("true", "1", "y", "yes")


def parse_datetime(value: str, zone: zoneinfo.ZoneInfo) -> datetime | None:
    """An xs:dateTime; one without an offset is local time in `zone`. '' -> None."""
    if not value.strip():
        return None
    parsed = datetime.fromisoformat(value.strip())
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


def parse_date(value: str) -> date | None:
    """A date sent as xs:date or xs:dateTime ('1990-05-01T00:00:00'). '' -> None."""
    if not value.strip():
        return None
    return datetime.fromisoformat(value.strip()).date()


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def is_under_age(born: date | None, minimum_age: int | None, today: date) -> bool:
    """Below the minimum age; an unknown birth date or no minimum is never under age."""
    return bool(minimum_age) and born is not None and age_on(born, today) < minimum_age


def status_is_active(status_id: str, active_statuses: Iterable[str]) -> bool:
    """Active when the StatusID is in the configured list (case-insensitive)."""
    return status_id.strip().casefold() in {s.casefold() for s in active_statuses}


def _email(value: str) -> str:
    value = value.strip()
    try:
        validate_email(value)
    except ValidationError:
        return ""  # Gladstone holds free text here; a non-address is not an email
    return value


def member_record(member: Member, *, rules: MemberRules, sites: dict[str, Site]) -> ClientRecord:
    """The client a Gladstone member becomes (raises BadRecord when it cannot be read).

    alt id = MemberID; active when the StatusID is in the list and the member is not
    deleted; IsDeleted deletes the client only when "delete on IsDeleted" is on.
    """
    try:
        member_id = str(int(member.member_id))
    except ValueError:
        raise BadRecord(f"Unreadable MemberID {member.member_id!r}.") from None
    first, last = member.forename.strip(), member.surname.strip()
    if not (first or last):
        raise BadRecord("The member has neither Forename nor Surname.", key=member_id)
    try:
        born = parse_date(member.dob)
    except ValueError:
        raise BadRecord(f"Unreadable DOB {member.dob!r}.", key=member_id) from None
    deleted = flag(member.is_deleted)
    site = sites.get(member.site_id.strip())
    return ClientRecord(
        external_id=member_id,
        alt_id=member_id,
        first_name=first[:100],
        last_name=last[:100],
        email=_email(member.email)[:254],
        date_of_birth=born,
        home_location_id=site.location_id if site else None,
        is_active=status_is_active(member.status_id, rules.active_statuses) and not deleted,
        deleted=deleted and rules.delete_on_is_deleted,
    )


class PackageIndex:
    """Packages by alt id, and the tier rule of DESIGN.md ("Gladstone tiers (corrected)").

    The rule, in `package_alt_id`, is the one place both the member sync and the
    catalogue page read it.
    """

    def __init__(self, packages: dict[str, int | None], tiers: dict[str, int] | None = None):
        self.packages = dict(packages)
        self.tiers = tiers or {}
        # first four characters -> the lowest existing alt id made of them, "0" and one more character
        self.lowest_tiered: dict[str, str] = {}
        for alt_id in packages:
            self._index(alt_id)

    def _index(self, alt_id: str) -> None:
        if len(alt_id) == 6 and alt_id[4] == "0":
            lowest = self.lowest_tiered.get(alt_id[:4])
            if lowest is None or alt_id < lowest:
                self.lowest_tiered[alt_id[:4]] = alt_id

    def add(self, alt_id: str) -> None:
        """Count a package that is about to be created (the catalogue's plan) as existing."""
        self.packages.setdefault(alt_id, None)
        self._index(alt_id)

    def package_alt_id(self, sub_type_id: str) -> str | None:
        """The package a SubTypeID is assigned: the one with that alt id; else, when the 5th
        character is 0 and there are at least 6, the lowest existing <first four>0<one more>,
        else the one whose alt id is the first four characters. None: no package matches."""
        if sub_type_id in self.packages:
            return sub_type_id
        if tier_alt_id(sub_type_id) is None:
            return None
        head = sub_type_id[:4]
        return self.lowest_tiered.get(head) or (head if head in self.packages else None)

    def match(self, sub_type_id: str) -> tuple[int | None, int | None]:
        """(package id, tier id) for a SubTypeID; (None, None) when no package matches."""
        alt_id = self.package_alt_id(sub_type_id)
        if alt_id is None:
            return None, None
        tier = tier_alt_id(sub_type_id)
        return self.packages[alt_id], self.tiers.get(tier) if tier else None


def tier_alt_id(sub_type_id: str) -> str | None:
    """Characters 5-6 name the Location tier when the 5th is 0 and there are at least 6
    ('PTPK02' -> '02'; 'INITIALPK' -> None)."""
    return sub_type_id[4:6] if len(sub_type_id) >= 6 and sub_type_id[4] == "0" else None


@dataclass(frozen=True)
class SubscriptionFacts:
    """A subscription read and checked, waiting for its client's id."""

    ref: str
    sub_type_id: str
    start: datetime
    end: datetime | None
    location_id: int | None
    package_id: int | None
    tier_id: int | None

    def expired(self, now: datetime) -> bool:
        return self.end is not None and self.end < now

    def record(self, *, client_id: int, now: datetime) -> ClientPackageRecord:
        """The client package (alt id = SubscriptionRef; expired once EndDate is past)."""
        return ClientPackageRecord(
            alt_id=self.ref,
            client_id=client_id,
            package_id=self.package_id,
            start=self.start,
            end=self.end,
            status="expired" if self.expired(now) else "active",
            location_id=self.location_id,
            tier_id=self.tier_id,
        )


def subscription_facts(
    sub: Subscription, *, index: PackageIndex, sites: dict[str, Site], home: Site | None
) -> SubscriptionFacts:
    """Read one subscription (BadRecord when it cannot be used). Dates are local to its site."""
    ref, sub_type_id = sub.subscription_ref.strip(), sub.sub_type_id.strip()
    if not ref:
        raise BadRecord("A subscription has no SubscriptionRef.")
    site = sites.get(sub.site_id.strip()) or home
    zone = site.zone if site else zoneinfo.ZoneInfo("UTC")
    try:
        start = parse_datetime(sub.start_date, zone)
        end = parse_datetime(sub.end_date, zone)
    except ValueError:
        raise BadRecord(f"Subscription {ref} has an unreadable StartDate or EndDate.") from None
    if start is None:
        raise BadRecord(f"Subscription {ref} has no StartDate.")
    package_id, tier_id = index.match(sub_type_id)
    return SubscriptionFacts(
        ref=ref[:64],
        sub_type_id=sub_type_id,
        start=start,
        end=max(end, start) if end else None,  # ended before it began: expired at its start
        location_id=sites[sub.site_id.strip()].location_id if sub.site_id.strip() in sites else None,
        package_id=package_id,
        tier_id=tier_id,
    )


@dataclass(frozen=True)
class AccessFacts:
    """A door access read from Gladstone, keyed by site and AttendanceID."""

    source_ref: str
    member_id: str
    site_id: str
    accessed_at: datetime
    granted: bool


def access_facts(attendance: Attendance, *, site_id: str, zone: zoneinfo.ZoneInfo) -> AccessFacts:
    """Read one attendance (BadRecord when it cannot be used)."""
    key = f"{site_id}-{attendance.attendance_id.strip()}"
    try:
        member_id = str(int(attendance.member_id))
        accessed_at = parse_datetime(attendance.accessed_at, zone)
    except ValueError:
        raise BadRecord("Unreadable MemberID or AccessDateTime.", key=key) from None
    if not attendance.attendance_id.strip() or accessed_at is None:
        raise BadRecord("The attendance has no AttendanceID or AccessDateTime.", key=key)
    granted = flag(attendance.granted) if attendance.granted.strip() else True
    return AccessFacts(key[:100], member_id, site_id, accessed_at.astimezone(UTC), granted)


def login_id_kind(identifier: str) -> str:
    """Which Gladstone LoginId an app user's identifier is: email, member number, or login."""
    identifier = identifier.strip()
    if "@" in identifier:
        return "HomeEmailAddress"
    return "MemberID" if identifier.isdigit() else "LoginID"


def catalogue_entries(types: list[SubscriptionType], index: PackageIndex) -> list[CatalogueEntry]:
    """One entry per package the subscription types need, grouped by the tier rule.

    A type an existing package takes (PackageIndex.package_alt_id) shows under it. The
    others are planned in alt id order: a type no planned package takes becomes a
    package to create, and the rule then folds the types after it into it (PTPK01 and
    PTPK02 under PTPK; without a PTPK type, PTPK02 under PTPK01), so creating the missing
    packages makes every type resolve the way the page shows.
    """
    planned = PackageIndex(index.packages)
    key: dict[str, str] = {}
    for sub_type_id in sorted({t.sub_type_id for t in types}):
        alt_id = planned.package_alt_id(sub_type_id)
        if alt_id is None:
            planned.add(sub_type_id)
            alt_id = sub_type_id
        key[sub_type_id] = alt_id
    groups: dict[str, list[SubscriptionType]] = {}
    for t in types:
        groups.setdefault(key[t.sub_type_id], []).append(t)
    entries = []
    for alt_id, members in groups.items():
        main = next((t for t in members if t.sub_type_id == alt_id), members[0])
        covers = [t.sub_type_id for t in members]
        detail = (
            ""
            if covers == [alt_id]
            else "SubTypeIDs "
            + ", ".join(f"{s} (tier {tier_alt_id(s)})" if tier_alt_id(s) else s for s in covers)
        )
        entries.append(CatalogueEntry(alt_id=alt_id, name=main.description or alt_id, detail=detail))
    return entries
