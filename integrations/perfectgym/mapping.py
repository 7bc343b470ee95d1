"""Perfect Gym rows -> neutral records. Pure functions: a bad row raises BadRecord."""

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from clients.records import ClientRecord
from integrations.errors import BadRecord
from integrations.perfectgym.clubs import Clubs
from packages.models import ClientPackage

# Contract status -> client package status. A frozen contract gives no access while
# frozen; Perfect Gym raises its version when it thaws, and the sync makes it active again.
CONTRACT_STATUS = {
    "Current": ClientPackage.Status.ACTIVE,
    "NotStarted": ClientPackage.Status.ACTIVE,  # its start lies ahead
    "Ended": ClientPackage.Status.EXPIRED,
    "Freezed": ClientPackage.Status.EXPIRED,
}


@dataclass(frozen=True)
class Skipped:
    """A row the sync leaves alone on purpose (counted as skipped, explained in the report)."""

    why: str


SKIPPED = Skipped("skipped")


@dataclass(frozen=True)
class Holding:
    """A contract or member product as a package a member holds (before client lookup)."""

    alt_id: str  # the client package's reference: contract_<id> / member_product_<id>
    member_id: int
    package_alt_id: str  # payment_plan_<paymentPlanId> / product_<productId>
    club_id: int | None
    start: datetime
    end: datetime | None
    status: str
    quantity: int | None = None
    deleted: bool = False


@dataclass(frozen=True)
class Visit:
    """A club visit (a swipe at the club's door)."""

    ref: str
    member_id: int
    club_id: int | None
    entered_at: datetime
    deleted: bool = False


def row_id(raw) -> int:
    """The row's int64 id, or BadRecord."""
    value = raw.get("id") if isinstance(raw, dict) else None
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRecord("The row has no numeric id.")
    return value


def _int(raw: dict, name: str, *, required: bool = True) -> int | None:
    value = raw.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRecord(f"{name} is not a number: {value!r}.", key=str(raw.get("id", "")))
    return value


def when(raw: dict, name: str, zone: ZoneInfo, *, required: bool = False) -> datetime | None:
    """An ISO-8601 field as an aware datetime; a time without offset is the club's local time."""
    value = raw.get(name)
    if value in (None, ""):
        if required:
            raise BadRecord(f"{name} is missing.", key=str(raw.get("id", "")))
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise BadRecord(f"Unreadable {name} {value!r}.", key=str(raw.get("id", ""))) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


def _text(raw: dict, name: str, limit: int) -> str:
    value = raw.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRecord(f"{name} is not text: {value!r}.", key=str(raw.get("id", "")))
    return value.strip()[:limit]


def member_record(raw, *, clubs: Clubs, identity_type_id: int | None) -> ClientRecord:
    """A Members row as a client: home location from homeClubId, customer number as identity."""
    member_id = row_id(raw)
    key = str(member_id)
    first_name = _text(raw, "firstName", 100)
    if not first_name:
        raise BadRecord("The member has no first name.", key=key)
    birth = raw.get("birthdate")
    try:
        birthdate = date.fromisoformat(str(birth)[:10]) if birth else None
    except ValueError:
        raise BadRecord(f"Unreadable birthdate {birth!r}.", key=key) from None
    number = raw.get("number")
    home = _int(raw, "homeClubId", required=False)
    return ClientRecord(
        external_id=key, first_name=first_name, last_name=_text(raw, "lastName", 100),
        email=_text(raw, "email", 254), phone=_text(raw, "phoneNumber", 40), date_of_birth=birthdate,
        home_location_id=clubs.locations.get(home), is_active=raw.get("isActive") is not False,
        deleted=bool(raw.get("isDeleted")),
        identities={identity_type_id: str(number)} if identity_type_id and number not in (None, "") else {},
    )


def contract_holding(raw, *, clubs: Clubs) -> Holding:
    """A Contracts row: payment_plan_<paymentPlanId>, status from `status`, ended/deleted expire."""
    contract_id = row_id(raw)
    club = _int(raw, "clubId", required=False)
    zone = clubs.zone(club)
    status = raw.get("status")
    if status not in CONTRACT_STATUS:
        raise BadRecord(f"Unknown contract status {status!r}.", key=str(contract_id))
    start = when(raw, "startDate", zone) or when(raw, "signUpDate", zone, required=True)
    end = when(raw, "endDate", zone)
    deleted = bool(raw.get("isDeleted"))
    if end is not None and end < start and not deleted:
        raise BadRecord("The contract ends before it starts.", key=str(contract_id))
    return Holding(
        alt_id=f"contract_{contract_id}", member_id=_int(raw, "memberId"),
        package_alt_id=f"payment_plan_{_int(raw, 'paymentPlanId')}", club_id=club,
        start=start, end=max(end, start) if end else None,
        status=ClientPackage.Status.EXPIRED if deleted else CONTRACT_STATUS[status], deleted=deleted,
    )


def product_holding(raw, *, clubs: Clubs) -> Holding:
    """A MemberProducts row: product_<productId> from purchase to expiry; a deleted one expires."""
    product_id = row_id(raw)
    club = _int(raw, "clubId", required=False)
    zone = clubs.zone(club)
    start = when(raw, "purchaseDate", zone, required=True)
    end = when(raw, "expiryDate", zone)
    deleted = bool(raw.get("isDeleted"))
    if end is not None and end < start and not deleted:
        raise BadRecord("The product expires before it was bought.", key=str(product_id))
    return Holding(
        alt_id=f"member_product_{product_id}", member_id=_int(raw, "memberId"),
        package_alt_id=f"product_{_int(raw, 'productId')}", club_id=club,
        start=start, end=max(end, start) if end else None,
        status=ClientPackage.Status.EXPIRED if deleted else ClientPackage.Status.ACTIVE,
        quantity=_int(raw, "currentQuantity", required=False), deleted=deleted,
    )


def visit_row(raw, *, clubs: Clubs) -> Visit:
    """A MemberClubVisits row."""
    visit_id = row_id(raw)
    club = _int(raw, "clubId", required=False)
    return Visit(ref=f"visit_{visit_id}", member_id=_int(raw, "memberId"), club_id=club,
                 entered_at=when(raw, "enterDate", clubs.zone(club), required=True),
                 deleted=bool(raw.get("isDeleted")))
