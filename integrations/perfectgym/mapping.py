"""Perfect Gym records (integrations.perfectgym.client) -> neutral records. Pure functions:
a bad row raises BadRecord, carrying the vendor's body for its sync issue."""

import functools
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from clients.records import ClientRecord
from integrations.errors import BadRecord
from integrations.perfectgym.client import Contract, Member, MemberClubVisit, MemberProduct, Row
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


def _bad(row: Row, reason: str) -> BadRecord:
    # A falsy body would make the engine fall back to the record itself, which is no JSON.
    return BadRecord(reason, key=row.key, payload=row.payload if row.payload else {"body": row.payload})


def row_id(row: Row) -> int:
    """The row's int64 id, or BadRecord."""
    if isinstance(row.id, bool) or not isinstance(row.id, int):
        raise _bad(row, "The row has no numeric id.")
    return row.id


def _int(row: Row, value, name: str, *, required: bool = True) -> int | None:
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(row, f"{name} is not a number: {value!r}.")
    return value


def when(row: Row, value, name: str, zone: ZoneInfo, *, required: bool = False) -> datetime | None:
    """An ISO-8601 field as an aware datetime; a time without offset is the club's local time."""
    if value in (None, ""):
        if required:
            raise _bad(row, f"{name} is missing.")
        return None
    parsed = _instant(str(value))
    if parsed is None:
        raise _bad(row, f"Unreadable {name} {value!r}.")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


@functools.lru_cache(maxsize=8192)
def _instant(text: str) -> datetime | None:
    """An ISO-8601 text as a datetime (None when unreadable); kept, since a club's rows share
    few dates (sign-ups and starts fall on the same days)."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _text(row: Row, value, name: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _bad(row, f"{name} is not text: {value!r}.")
    return value.strip()[:limit]


def member_record(member: Member, *, clubs: Clubs, identity_type_id: int | None) -> ClientRecord:
    """A member as a client: home location from homeClubId, customer number as identity."""
    key = str(row_id(member))
    first_name = _text(member, member.first_name, "firstName", 100)
    if not first_name:
        raise _bad(member, "The member has no first name.")
    birth = member.birthdate
    try:
        birthdate = date.fromisoformat(str(birth)[:10]) if birth else None
    except ValueError:
        raise _bad(member, f"Unreadable birthdate {birth!r}.") from None
    number = member.number
    home = _int(member, member.home_club_id, "homeClubId", required=False)
    return ClientRecord(
        external_id=key, first_name=first_name, last_name=_text(member, member.last_name, "lastName", 100),
        email=_text(member, member.email, "email", 254), phone=_text(member, member.phone, "phoneNumber", 40),
        date_of_birth=birthdate, home_location_id=clubs.locations.get(home), is_active=member.active,
        deleted=member.deleted,
        identities={identity_type_id: str(number)} if identity_type_id and number not in (None, "") else {},
    )


def contract_holding(contract: Contract, *, clubs: Clubs) -> Holding:
    """A contract: payment_plan_<paymentPlanId>, status from `status`, ended/deleted expire."""
    contract_id = row_id(contract)
    club = _int(contract, contract.club_id, "clubId", required=False)
    zone = clubs.zone(club)
    if contract.status not in CONTRACT_STATUS:
        raise _bad(contract, f"Unknown contract status {contract.status!r}.")
    start = (when(contract, contract.start_date, "startDate", zone)
             or when(contract, contract.sign_up_date, "signUpDate", zone, required=True))
    end = when(contract, contract.end_date, "endDate", zone)
    if end is not None and end < start and not contract.deleted:
        raise _bad(contract, "The contract ends before it starts.")
    return Holding(
        alt_id=f"contract_{contract_id}", member_id=_int(contract, contract.member_id, "memberId"),
        package_alt_id=f"payment_plan_{_int(contract, contract.payment_plan_id, 'paymentPlanId')}", club_id=club,
        start=start, end=max(end, start) if end else None,
        status=ClientPackage.Status.EXPIRED if contract.deleted else CONTRACT_STATUS[contract.status],
        deleted=contract.deleted,
    )


def product_holding(product: MemberProduct, *, clubs: Clubs) -> Holding:
    """A member product: product_<productId> from purchase to expiry; a deleted one expires."""
    product_id = row_id(product)
    club = _int(product, product.club_id, "clubId", required=False)
    zone = clubs.zone(club)
    start = when(product, product.purchase_date, "purchaseDate", zone, required=True)
    end = when(product, product.expiry_date, "expiryDate", zone)
    if end is not None and end < start and not product.deleted:
        raise _bad(product, "The product expires before it was bought.")
    return Holding(
        alt_id=f"member_product_{product_id}", member_id=_int(product, product.member_id, "memberId"),
        package_alt_id=f"product_{_int(product, product.product_id, 'productId')}", club_id=club,
        start=start, end=max(end, start) if end else None,
        status=ClientPackage.Status.EXPIRED if product.deleted else ClientPackage.Status.ACTIVE,
        quantity=_int(product, product.current_quantity, "currentQuantity", required=False),
        deleted=product.deleted,
    )


def visit_row(visit: MemberClubVisit, *, clubs: Clubs) -> Visit:
    """A club visit."""
    visit_id = row_id(visit)
    club = _int(visit, visit.club_id, "clubId", required=False)
    return Visit(ref=f"visit_{visit_id}", member_id=_int(visit, visit.member_id, "memberId"), club_id=club,
                 entered_at=when(visit, visit.enter_date, "enterDate", clubs.zone(club), required=True),
                 deleted=visit.deleted)
