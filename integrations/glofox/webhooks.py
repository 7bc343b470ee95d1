"""Glofox's webhooks as sent: the event a body names, and the id Glofox does not give it."""

import hashlib
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class WebhookEvent:
    """A Glofox webhook read leniently: its type (upper case), branch, and the member it
    names (data.user_id or data.member_id, or a MEMBER_ event's own _id), "" when absent."""

    event_type: str
    branch_id: str = ""
    member_id: str = ""

    @classmethod
    def from_api(cls, body: Any) -> "WebhookEvent":
        body = body if isinstance(body, dict) else {}
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        kind = str(body.get("event_type") or "").upper()
        member = data.get("user_id") or data.get("member_id") or (
            data.get("_id") if kind.startswith("MEMBER_") else None)
        return cls(kind, str(body.get("branch_id") or data.get("branch_id") or ""), str(member or ""))


def event_id(payload: dict) -> str:
    """The SHA-256 of the payload's stable text (keys sorted): Glofox's envelope has no
    event id, and a repeat delivery is the same body."""
    digest = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(digest.encode()).hexdigest()
