"""Neutral client records: what a member system says about a person, vendor-free."""

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class ClientRecord:
    """One client as a member system reports it, keyed by the vendor's id."""

    external_id: str
    first_name: str
    last_name: str = ""
    email: str = ""
    phone: str = ""
    date_of_birth: date | None = None
    home_location_id: int | None = None
    is_active: bool = True
    alt_id: str = ""
    deleted: bool = False  # the vendor deleted it: delete recoverably
    identities: dict[int, str] = field(default_factory=dict)  # identity type id -> value


@dataclass
class UpsertResult:
    """What an upsert did, and the club ids of every record it was given."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    ids: dict[str, int] = field(default_factory=dict)  # external id -> club record id
    changed_client_ids: set[int] = field(default_factory=set)  # clients whose access may change
