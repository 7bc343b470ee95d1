"""The example vendor's records as neutral Gatehouse records: pure functions, no I/O.

Each function takes a client record and returns a record from clients/ or packages/ (or
raises BadRecord, which the sync engine turns into a SyncIssue while the page goes on).
"""

from datetime import date

from clients.records import ClientRecord
from integrations.connectors import CatalogueEntry
from integrations.errors import BadRecord
from integrations.example.client import Member, Product


def member_record(member: Member) -> ClientRecord:
    """A vendor member as a neutral client record (BadRecord when unusable)."""
    if not member.id:  # a body that is not an object too: kept wrapped, so the issue shows it
        raise BadRecord("The member has no id.", payload=member.payload if isinstance(member.payload, dict)
                        else {"body": member.payload})
    if not isinstance(member.first_name, str) or not member.first_name.strip():
        raise BadRecord("The member has no first name.", key=member.id, payload=member.payload)
    try:
        birth = date.fromisoformat(member.birth) if member.birth else None
    except (TypeError, ValueError):
        raise BadRecord(f"Unreadable birth date {member.birth!r}.", key=member.id,
                        payload=member.payload) from None
    return ClientRecord(
        external_id=member.id, first_name=member.first_name, last_name=member.last_name,
        email=member.email, date_of_birth=birth, is_active=member.active,
        deleted=member.deleted, alt_id=member.number,
    )


def catalogue_entry(product: Product) -> CatalogueEntry:
    """A vendor product as the package it maps to: credit packs have credits."""
    return CatalogueEntry(alt_id=f"example_{product.code}", name=product.name, credits=product.credits,
                          kind="credit_pack" if product.credits else "membership")
