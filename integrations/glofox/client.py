"""Glofox's REST API (ABC Glofox): members, memberships, credits, bookings, check-ins.

The API only: typed records in and out (VendorRecords, integrations/records.py: read
leniently, the body kept as `payload`), no Django models. Every call
carries the three headers (the branch is chosen per call, so one paced session serves
every configured Glofox location), is paced at Glofox's 10 requests a second, retries
429 after Retry-After, and treats `success: false` on an HTTP 200 as an error.
"""

import math
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import requests

from integrations.errors import AuthError, PermanentError, VendorError
from integrations.http import VendorHTTP
from integrations.records import VendorRecord, api, nested

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


def _text(value: Any) -> str:
    return str(value or "")  # lenient: a missing or null field is empty


@dataclass(frozen=True)
class GlofoxRecord(VendorRecord):
    """A Glofox record: `payload` keeps an empty body as its repr (there is no JSON to show)."""

    @classmethod
    def kept(cls, body: Any) -> Any:
        return body if body else {"record": repr(body)}


@dataclass(frozen=True)
class Membership(GlofoxRecord):
    """A member's Glofox membership as sent (`membership` of a member). Dates are kept as
    sent (unix seconds or ISO text): mapping.py reads them and judges the membership."""

    membership_id: str = api("membership_id", read=_text)  # the catalogue's membership type
    user_membership_id: str = api("user_membership_id", read=_text)  # this member's holding of it
    name: str = api("membership_name", read=_text)
    type: str = api("type", read=_text)  # time, time_classes, num_classes (credit packs), payg
    status: str = api("status", read=_text)
    start_date: Any = api("start_date")
    expiry_date: Any = api("expiry_date")


@dataclass(frozen=True)
class Member(GlofoxRecord):
    """One Glofox client (member or lead) as sent (a missing field is empty)."""

    id: str = api("_id", read=_text)
    first_name: str = api("first_name", read=_text)
    last_name: str = api("last_name", read=_text)
    email: str = api("email", read=_text)
    phone: str = api("phone", read=_text)
    birth: Any = api("birth")  # unix seconds or ISO date, as sent; mapping.py parses it
    created: Any = api("created")  # when the member joined, as sent
    active: bool = api("active", read=lambda v: v is not False)  # `active: false` is a removed member
    membership: Membership | None = api("membership", read=nested(Membership))


@dataclass(frozen=True)
class Booking(GlofoxRecord):
    """One booking of a branch's bookings list as sent; its class times are branch-local
    "YYYY-MM-DD HH:MM:SS" text, parsed (and judged) by mapping.py."""

    id: str = api("_id", read=_text)
    member_id: str = api("user_id", read=_text)  # Glofox's user_id
    # the event booked (event_id, or model_id on older bookings)
    class_id: str = api(read=lambda body: _text(body.get("event_id") or body.get("model_id")))
    class_name: str = api("event_name", read=_text)
    time_start: Any = api("time_start")
    time_finish: Any = api("time_finish")
    status: Any = api("status")  # BOOKED, WAITING, RESERVED, CANCELED, FAILED, as sent
    attended: bool = api("attended", read=bool)


@dataclass(frozen=True)
class Credit(GlofoxRecord):
    """One of a member's credit packs: sessions left (as sent) and whether it is active."""

    sessions: Any = api("num_sessions")
    active: bool = api("active", read=bool, default=True)


def _first_plan_type(body: dict) -> str:
    plans = [p for p in body.get("plans") or [] if isinstance(p, dict)]
    return _text(plans[0].get("type") if plans else body.get("type"))


@dataclass(frozen=True)
class MembershipType(GlofoxRecord):
    """A membership of Glofox's catalogue (named by its id when it has no name); `type` is
    its first plan's type."""

    id: str = api("_id", read=_text)
    name: str = api(read=lambda body: _text(body.get("name") or body.get("_id")))
    type: str = api(read=_first_plan_type)  # time, time_classes, num_classes (credit packs), payg


@dataclass(frozen=True)
class Branch(GlofoxRecord):
    """A Glofox branch (location): its name and IANA time zone ("" when Glofox does not say)."""

    name: str = api("name", read=_text)
    time_zone: str = api("address.timezone_id", read=_text)


@dataclass(frozen=True)
class ListPage:
    """One page of a Glofox list: the data array as sent, and its typed records (`items`:
    Members, Bookings) where the client reads them for a sync."""

    records: list
    page: int
    has_more: bool
    total: int | None
    items: list = field(default_factory=list)


@dataclass(frozen=True)
class CheckIn:
    """A member's entry at a branch's door, to record in Glofox (POST 2.0/access)."""

    branch: str
    member_id: str
    entry_at: datetime
    door: str


@dataclass(frozen=True)
class Attendance:
    """A member's booked class attended, to record in Glofox (POST 2.0/attendances)."""

    branch: str
    member_id: str
    class_id: str
    attended_at: datetime


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
    def _list_page(body: dict, page: int, record: Callable[[Any], Any] | None = None) -> ListPage:
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise PermanentError("glofox: a list answered without its data array")
        total = body.get("total_count")
        return ListPage(data, page, bool(body.get("has_more")), int(total) if total is not None else None,
                        [record(item) for item in data] if record else [])

    # reads -----------------------------------------------------------------
    def branch(self, *, branch: str) -> Branch:
        """The branch (GET 2.0/branches/<id>): its name and time zone (`address.timezone_id`)."""
        body = self._get(branch, f"2.0/branches/{branch}")
        return Branch.from_api(body.get("data", body) if isinstance(body, dict) else None)

    def members_page(self, *, branch: str, page: int, modified_from: datetime | int | None = None,
                     modified_to: datetime | int | None = None, limit: int = PAGE_LIMIT) -> ListPage:
        """One page of the branch's clients (members and leads, `items` are Members),
        optionally by modified date."""
        params = {"page": page, "limit": limit}
        if modified_from is not None:
            params["utc_modified_start_date"] = _unix(modified_from)
        if modified_to is not None:
            params["utc_modified_end_date"] = _unix(modified_to)
        return self._list_page(self._get(branch, "2.0/members", params), page, Member.from_api)

    def member(self, *, branch: str, member_id: str) -> Member | None:
        """One member with its embedded membership; None when Glofox does not know it."""
        try:
            body = self._get(branch, f"2.0/members/{member_id}")
        except PermanentError as error:
            if status_of(error) == 404:
                return None
            raise
        member = body.get("data", body) if isinstance(body, dict) else None
        return Member.from_api(member) if isinstance(member, dict) and member.get("_id") else None

    def memberships(self, *, branch: str) -> list[MembershipType]:
        """The branch's membership catalogue (every page)."""
        found, page = [], 1
        while True:
            body = self._get(branch, "2.0/memberships", {"page": page, "limit": PAGE_LIMIT})
            listed = self._list_page(body, page)
            # One without an id cannot be selected or mapped: the catalogue leaves it out.
            found += [MembershipType.from_api(item) for item in listed.records
                      if isinstance(item, dict) and item.get("_id")]
            if not listed.has_more:
                return found
            page += 1

    def credits(self, *, branch: str, user_id: str) -> list[Credit]:
        """A member's credit packs (sessions left, whether active)."""
        body = self._get(branch, "2.0/credits", {"user_id": user_id, "limit": PAGE_LIMIT})
        return [Credit.from_api(c) for c in self._list_page(body, 1).records
                if isinstance(c, dict)]

    def bookings_page(self, *, branch: str, page: int, modified_from: datetime | int | None = None,
                      start_from: datetime | int | None = None,
                      start_to: datetime | int | None = None, limit: int = PAGE_LIMIT) -> ListPage:
        """One page of the branch's bookings (`items` are Bookings; meta envelope; times are
        branch-local strings)."""
        params = {"page": page, "limit": limit}
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
        return ListPage(data, page, page * limit < total, total, [Booking.from_api(b) for b in data])

    # check-ins -------------------------------------------------------------
    def access_create(self, checkin: CheckIn) -> CallResult:
        """Check a member in at the branch (POST 2.0/access)."""
        return self._post(checkin.branch, "2.0/access", {
            "user_id": checkin.member_id, "branch_id": checkin.branch, "entry_at": _unix(checkin.entry_at),
            "status": "GRANTED", "door": checkin.door, "door_type": "kisi",
        })

    def attendance_create(self, attendance: Attendance) -> CallResult:
        """Mark a member's booked class attended (POST 2.0/attendances)."""
        return self._post(attendance.branch, "2.0/attendances", {
            "user_id": attendance.member_id, "model": "events", "model_ids": [attendance.class_id],
            "attended_at": _unix(attendance.attended_at),
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
