"""Glofox's REST API (ABC Glofox): members, memberships, credits, bookings, check-ins.

The API only: vendor dicts and small typed records, no Django models. Every call
carries the three headers (the branch is chosen per call, so one paced session serves
every configured Glofox location), is paced at Glofox's 10 requests a second, retries
429 after Retry-After, and treats `success: false` on an HTTP 200 as an error.
"""

import json
import math
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

import requests

from integrations.errors import AuthError, PermanentError, VendorError
from integrations.http import VendorHTTP

BASE_URL = "https://gf-api.aws.glofox.com/prod/"
PAGE_LIMIT = 100  # Glofox's maximum
RATE_PER_SECOND = 10.0
# Well under Glofox's burst of 1000, so the members and bookings syncs running at the
# same time in two workers stay near the limit instead of far over it.
BURST = 20
SOFT_FAILURE = re.compile(rb'"success"\s*:\s*false')
ANSWERED = re.compile(r"answered (\d{3})")
AUTH_CODES = frozenset({"UNAUTHORIZED", "UNAUTHENTICATED", "FORBIDDEN", "INVALID_API_KEY",
                        "INVALID_TOKEN", "BRANCH_NOT_WHITELISTED"})


@dataclass(frozen=True)
class ListPage:
    """One page of a Glofox list."""

    records: list[dict]
    page: int
    has_more: bool
    total: int | None


@dataclass(frozen=True)
class MembershipType:
    """A membership of Glofox's catalogue; `type` is its first plan's type."""

    id: str
    name: str
    type: str  # time, time_classes, num_classes (credit packs), payg


@dataclass(frozen=True)
class CallResult:
    """What one outbound call produced, for the check-in delivery log."""

    ok: bool
    status_code: int | None
    excerpt: str
    duration_ms: int


def _unix(moment: datetime | int | None) -> int | None:
    if moment is None:
        return None
    return int(moment.timestamp()) if isinstance(moment, datetime) else int(moment)


class GlofoxClient:
    """One integration's Glofox API, for any of its branches."""

    def __init__(self, *, api_key: str, api_token: str, base_url: str = BASE_URL, **http_options):
        http_options.setdefault("rate_per_second", RATE_PER_SECOND)
        http_options.setdefault("burst", BURST)
        self.http = VendorHTTP(
            vendor="glofox", base_url=base_url if base_url.endswith("/") else base_url + "/",
            headers={"x-api-key": api_key, "x-glofox-api-token": api_token, "Accept": "application/json"},
            secrets=[api_key, api_token], error_hook=self._soft_error, **http_options,
        )

    # transport -------------------------------------------------------------
    def _soft_error(self, response: requests.Response) -> VendorError | None:
        """Older endpoints answer HTTP 200 with `success: false`: that is an error."""
        if response.status_code != 200 or not SOFT_FAILURE.search(response.content):
            return None
        try:
            body = response.json()
        except ValueError:
            return None
        if not isinstance(body, dict) or body.get("success") is not False:
            return None
        code = str(body.get("message_code") or "")
        # Glofox's own message stays out: error messages reach admin pages.
        request = response.request
        where = f"glofox: {request.method} {request.path_url.split('?')[0]}" if request is not None else "glofox:"
        if code.upper() in AUTH_CODES:  # one of our own known codes: safe to name
            error = AuthError(f"{where} answered success: false: the vendor refused the credentials "
                              f"({code.upper()})")
        else:
            error = PermanentError(f"{where} answered success: false: the vendor refused the request")
        error.status_code = 200
        return error

    def _get(self, branch: str, path: str, params: dict | None = None) -> dict:
        response = self.http.request("GET", path, params=params, headers={"x-glofox-branch-id": branch})
        try:
            return response.json()
        except ValueError:
            raise PermanentError(f"glofox: GET {path} answered something that is not JSON") from None

    @staticmethod
    def _list_page(body: dict, page: int) -> ListPage:
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise PermanentError("glofox: a list answered without its data array")
        total = body.get("total_count")
        return ListPage(data, page, bool(body.get("has_more")), int(total) if total is not None else None)

    # reads -----------------------------------------------------------------
    def branch(self, *, branch: str) -> dict:
        """The branch (GET 2.0/branches/<id>): name and `address.timezone_id`."""
        body = self._get(branch, f"2.0/branches/{branch}")
        return body.get("data", body) if isinstance(body, dict) else {}

    def branch_time_zone(self, *, branch: str) -> str:
        """The branch's IANA time zone, or "" when Glofox does not say."""
        address = self.branch(branch=branch).get("address") or {}
        return str(address.get("timezone_id") or "") if isinstance(address, dict) else ""

    def members_page(self, *, branch: str, page: int, modified_from: datetime | int | None = None,
                     modified_to: datetime | int | None = None) -> ListPage:
        """One page of the branch's clients (members and leads), optionally by modified date."""
        params = {"page": page, "limit": PAGE_LIMIT}
        if modified_from is not None:
            params["utc_modified_start_date"] = _unix(modified_from)
        if modified_to is not None:
            params["utc_modified_end_date"] = _unix(modified_to)
        return self._list_page(self._get(branch, "2.0/members", params), page)

    def member(self, *, branch: str, member_id: str) -> dict | None:
        """One member with its embedded membership; None when Glofox does not know it."""
        try:
            body = self._get(branch, f"2.0/members/{member_id}")
        except PermanentError as error:
            if status_of(error) == 404:
                return None
            raise
        member = body.get("data", body) if isinstance(body, dict) else None
        return member if isinstance(member, dict) and member.get("_id") else None

    def memberships(self, *, branch: str) -> list[MembershipType]:
        """The branch's membership catalogue (every page)."""
        found, page = [], 1
        while True:
            body = self._get(branch, "2.0/memberships", {"page": page, "limit": PAGE_LIMIT})
            listed = self._list_page(body, page)
            for item in listed.records:
                if not isinstance(item, dict) or not item.get("_id"):
                    continue
                plans = [p for p in item.get("plans") or [] if isinstance(p, dict)]
                kind = str(plans[0].get("type") or "") if plans else str(item.get("type") or "")
                found.append(MembershipType(str(item["_id"]), str(item.get("name") or item["_id"]), kind))
            if not listed.has_more:
                return found
            page += 1

    def credits(self, *, branch: str, user_id: str) -> list[dict]:
        """A member's credit packs (num_sessions left, active, dates)."""
        body = self._get(branch, "2.0/credits", {"user_id": user_id, "limit": PAGE_LIMIT})
        return self._list_page(body, 1).records

    def bookings_page(self, *, branch: str, page: int, modified_from: datetime | int | None = None,
                      start_from: datetime | int | None = None,
                      start_to: datetime | int | None = None) -> ListPage:
        """One page of the branch's bookings (meta envelope; times are branch-local strings)."""
        params = {"page": page, "limit": PAGE_LIMIT}
        if modified_from is not None:
            params["modified_start_date"] = _unix(modified_from)
        if start_from is not None:
            params["time_start_start_date"] = _unix(start_from)
        if start_to is not None:
            params["time_start_end_date"] = _unix(start_to)
        body = self._get(branch, f"2.2/branches/{branch}/bookings", params)
        meta = body.get("meta") if isinstance(body, dict) else None
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(meta, dict) or not isinstance(data, list):
            raise PermanentError("glofox: the bookings list answered without meta and data")
        total = int(meta.get("totalCount") or 0)
        limit = int(meta.get("limit") or PAGE_LIMIT)
        return ListPage(data, page, page * limit < total, total)

    # check-ins -------------------------------------------------------------
    def access_create(self, *, branch: str, user_id: str, entry_at: datetime, door: str) -> CallResult:
        """Check a member in at the branch (POST 2.0/access)."""
        return self._post(branch, "2.0/access", {
            "user_id": user_id, "branch_id": branch, "entry_at": _unix(entry_at), "status": "GRANTED",
            "door": door, "door_type": "kisi",
        })

    def attendance_create(self, *, branch: str, user_id: str, event_id: str,
                          attended_at: datetime) -> CallResult:
        """Mark a member's booked class attended (POST 2.0/attendances)."""
        return self._post(branch, "2.0/attendances", {
            "user_id": user_id, "model": "events", "model_ids": [event_id], "attended_at": _unix(attended_at),
        })

    def _post(self, branch: str, path: str, body: dict) -> CallResult:
        """Send one check-in call once (never retried here: the delivery keeps the retries)."""
        started = time.monotonic()
        try:
            response = self.http.request("POST", path, json=body, headers={"x-glofox-branch-id": branch})
        except VendorError as error:
            excerpt = self.http.redact(str(error))[:500]
            return CallResult(False, status_of(error), excerpt, _ms_since(started))
        excerpt = self.http.redact(response.text[:300])
        return CallResult(True, response.status_code, excerpt, _ms_since(started))


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def status_of(error: VendorError) -> int | None:
    """The HTTP status behind a vendor error, when there was one."""
    if getattr(error, "status_code", None):
        return error.status_code
    found = ANSWERED.search(str(error))
    return int(found.group(1)) if found else None


def payload_digest(payload: dict) -> str:
    """A stable text of a webhook payload (keys sorted), for hashing it into an event id."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)


def pages_walk(fetch: Callable[[int], ListPage], first: int = 1) -> Iterator[tuple[ListPage, int | None]]:
    """Page through a Glofox list from page `first`; yields (page, next page or None).

    When the list's total drops while we page (records left the filtered window),
    later records moved up: step back over them, since upserts are idempotent.
    """
    number, total = first, None
    while True:
        page = fetch(number)
        following = number + 1 if page.has_more else None
        if total is not None and page.total is not None and page.total < total:
            # The shift may predate this page: read again from where the missed records now sit.
            following = max(1, number - math.ceil((total - page.total) / PAGE_LIMIT))
        total = page.total if page.total is not None else total
        yield page, following
        if following is None:
            return
        number = following
