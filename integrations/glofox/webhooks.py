"""Glofox's webhooks as sent: the event a body names, and the id Glofox does not give it."""

import hashlib
import json
from dataclasses import dataclass

from integrations.records import VendorRecord, api


def _data(body: dict) -> dict:
    return body["data"] if isinstance(body.get("data"), dict) else {}


def _member_named(body: dict) -> str:
    data, kind = _data(body), str(body.get("event_type") or "").upper()
    return str(data.get("user_id") or data.get("member_id") or (
        data.get("_id") if kind.startswith("MEMBER_") else None) or "")


@dataclass(frozen=True)
class WebhookEvent(VendorRecord):
    """A Glofox webhook read leniently: its type (upper case), branch, and the member it
    names (data.user_id or data.member_id, or a MEMBER_ event's own _id), "" when absent."""

    event_type: str = api("event_type", read=lambda v: str(v or "").upper())
    branch_id: str = api(read=lambda body: str(body.get("branch_id") or _data(body).get("branch_id") or ""))
    member_id: str = api(read=_member_named)


def event_id(payload: dict) -> str:
    """The SHA-256 of the payload's stable text (keys sorted): Glofox's envelope has no
    event id, and a repeat delivery is the same body."""
    digest = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(digest.encode()).hexdigest()
