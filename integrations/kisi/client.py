"""The Kisi REST API (../shared/vendors/kisi.md): typed records in and out, no Django models.

Only the calls integrations.kisi.contract lists are sent (a test drives every public
method and checks). Marks follow the vendor file: [C] vendor docs, [O] third-party
production code, [I] inferred. What the vendor file leaves open is gathered here:

- [I] `GET /role_assignments?group_id=<id>&scope=group` lists a group's role
  assignments (the vendor file documents only the `user_id` filter); each carries
  `user_id`, `valid_from` and `valid_until`. It lets a reconcile read what Kisi holds
  for a group in one call per 100 records instead of one call per user.
- [O] Event polling ([I] the body's shape): `POST /event_sets` with
  `{"event_set": {"event_type", "interval": {"start", "end"}, "limit"}}` answers
  `{"events": [...], "next_cursor": str | null}`; the next page is the same POST with
  `"cursor"` added. Events have the webhook's shape.
- [I] An unlock refused by Kisi (e.g. an offline lock) answers 4xx with the error body.
- [I] Kisi publishes no REST rate limit: a reconcile keeps its calls under
  CALLS_PER_SECOND and, when Kisi answers 429, its whole pool of callers waits the
  `Retry-After` (integrations.pacing.CallPool).
"""

import time
from collections.abc import Callable, Iterator
from datetime import datetime
from urllib.parse import urlsplit

import requests

from integrations.errors import (
    AuthError,
    PermanentError,
    RateLimited,
    TransientError,
    VendorError,
    status_summary,
)
from integrations.http import VendorHTTP, retry_after_seconds
from integrations.kisi.records import (
    BASIC_ROLE,
    EventsPage,
    Group,
    KisiUser,
    ListPage,
    Lock,
    Place,
    RoleAssignment,
    UnlockEvent,
    iso_utc,
    parse_time,
)
from integrations.pacing import CallPool

KISI_URL = "https://api.kisi.io/"
PAGE_SIZE = 100  # [O]
UNLOCK_EVENT = "lock.unlock"  # [C]
GROUP_ASSIGNMENTS_FILTER = {"scope": "group"}  # [I] with group_id=<id>, see the docstring
WRITE_ATTEMPTS = 5  # a 429 means Kisi did not act, so a create is safe to send again
# [I] The pace of one reconcile's calls, all callers together. Kisi publishes no limit:
# this is a ceiling well above what IN_FLIGHT calls reach over the internet (~50 ms a
# round trip: ~300 a second), so it binds only against a Kisi on the same machine (the
# sandbox) or a runaway; a 429 slows the pool further.
CALLS_PER_SECOND = 5000.0
# The default of the "in_flight" setting: calls a reconcile keeps in flight at once. A
# round trip to Kisi dominates each call, so more in flight is faster until Kisi answers
# 429; past ~16, a run on one machine is bound by its own CPU, not by waiting.
IN_FLIGHT = 16


class KisiNotFound(PermanentError):
    """Kisi has no such record (404): deleted there, or never made."""


def collection_total(header: str | None) -> int | None:
    """The total of `X-Collection-Range: 0-99/250` (or `*/0`); None when absent or unreadable."""
    if not header or "/" not in header:
        return None
    try:
        return int(header.rsplit("/", 1)[1])
    except ValueError:
        return None


def _kisi_error(response: requests.Response) -> VendorError | None:
    """Map Kisi's error statuses to the error hierarchy.

    The message is fixed by the status (integrations.errors.status_summary): Kisi's own
    `{"code", "error"}` words stay out of it, as they would reach admin messages and pages.
    """
    status = response.status_code
    if status < 400:
        return None
    request = response.request
    path = urlsplit(request.url).path if request is not None else ""
    where = f"Kisi: {request.method if request is not None else ''} {path} answered {status}".strip()
    text = f"{where}: {status_summary(status)}"
    if status in (401, 403):
        return AuthError(f"{text}; check the API key")
    if status == 429:
        return RateLimited(text, retry_after=retry_after_seconds(response.headers.get("Retry-After")))
    if status >= 500:
        return TransientError(text)
    return KisiNotFound(text) if status == 404 else PermanentError(text)


class KisiClient:
    """One organisation's Kisi API, authenticated with its API key. Clients given the same
    `pool` keep one pace and wait together (see CallPool)."""

    def __init__(self, *, api_key: str, base_url: str = KISI_URL, identifier: str = "gatehouse",
                 contact: str = "", sleep: Callable[[float], None] = time.sleep, pool: CallPool | None = None,
                 **http_options):
        headers = {"Authorization": f"KISI-LOGIN {api_key}", "Accept": "application/json",
                   "X-Kisi-Integration-Identifier": identifier}
        if contact:
            headers["X-Kisi-Integration-Contact"] = contact
        self.http = VendorHTTP(vendor="kisi", base_url=base_url, headers=headers, secrets=[api_key],
                               error_hook=_kisi_error, sleep=sleep, pool=pool, **http_options)

    # plumbing ---------------------------------------------------------------
    def _write(self, method: str, path: str, **kwargs) -> requests.Response:
        """Send a create; wait and resend only when Kisi answered 429 (it did nothing)."""
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                return self.http.request(method, path, **kwargs)
            except RateLimited as limited:
                wait = limited.retry_after if limited.retry_after is not None else 2.0 ** attempt / 4
                if attempt == WRITE_ATTEMPTS or wait > self.http.max_retry_after:
                    raise
                self.http.sleep(wait)  # the pool's pause when pooled: every caller waits
        raise AssertionError("unreachable")  # pragma: no cover

    def _list_page(self, path: str, *, offset: int = 0, limit: int = PAGE_SIZE, **params) -> ListPage:
        response = self.http.request("GET", path, params={**params, "limit": limit, "offset": offset})
        body = response.json()
        if not isinstance(body, list):
            raise PermanentError(f"Kisi: GET /{path} did not answer a list.")
        return ListPage(body, offset, collection_total(response.headers.get("X-Collection-Range")))

    def _list_pages(self, path: str, *, limit: int = PAGE_SIZE, **params) -> Iterator[ListPage]:
        """Every page of a list, by limit and offset, stopping at the reported total."""
        offset = 0
        while True:
            page = self._list_page(path, offset=offset, limit=limit, **params)
            yield page
            offset += len(page.records)
            done = offset >= page.total if page.total is not None else len(page.records) < limit
            if done or not page.records:
                return

    # places, groups, locks ------------------------------------------------------
    def _typed_pages(self, path: str, record: Callable, **params) -> Iterator[ListPage]:
        for page in self._list_pages(path, **params):
            yield ListPage([record(raw) for raw in page.records], page.offset, page.total)

    def places(self) -> Iterator[ListPage]:
        """Pages of Place."""
        return self._typed_pages("places", Place.from_api)

    def places_count(self) -> int:
        """How many places the organisation has (one call: the first page and its total)."""
        page = self._list_page("places")
        return page.total if page.total is not None else len(page.records)

    def groups(self, *, ids: list[str] | None = None, place_id: str | None = None, query: str = "",
               scope: str = "") -> Iterator[ListPage]:
        """Pages of Group, optionally filtered by ids, place, name query or scope ("organization"/"place")."""
        filters = {"ids": ",".join(ids) if ids else None, "place_id": place_id, "query": query or None,
                   "scope": scope or None}
        return self._typed_pages("groups", Group.from_api, **{k: v for k, v in filters.items() if v is not None})

    def locks(self, *, place_id: str | None = None) -> Iterator[ListPage]:
        """Pages of Lock, with their `online` state: the only documented way to read it ([C])."""
        return self._typed_pages("locks", Lock.from_api, **({"place_id": place_id} if place_id else {}))

    def lock_unlock(self, lock_id: str, *, latitude: float | None = None,
                    longitude: float | None = None) -> str:
        """Open a lock once; the coordinates go along as the location context. Returns Kisi's message."""
        body = ({"context": {"location": {"latitude": latitude, "longitude": longitude}}}
                if latitude is not None and longitude is not None else None)
        answer = self.http.request("POST", f"locks/{lock_id}/unlock", json=body).json()
        return str(answer.get("message") or "Unlocked") if isinstance(answer, dict) else "Unlocked"

    # users -------------------------------------------------------------------------
    def user_find(self, email: str) -> KisiUser | None:
        """The user whose email is exactly `email` (case-insensitive); Kisi's query is fuzzy."""
        wanted = email.strip().lower()
        for page in self._list_pages("users", query=email.strip()):
            for raw in page.records:
                if str(raw.get("email") or "").strip().lower() == wanted:
                    return KisiUser(str(raw["id"]), raw["email"], raw.get("name") or "")
        return None

    def users(self) -> Iterator[list[KisiUser]]:
        """Every user of the organisation, a page at a time."""
        for page in self._list_pages("users"):
            yield [KisiUser(str(r["id"]), r.get("email") or "", r.get("name") or "")
                   for r in page.records if r.get("id") is not None]

    def user_create(self, *, email: str, name: str) -> KisiUser:
        """A managed user: confirmed at once, and Kisi sends them no emails."""
        body = {"user": {"email": email, "name": name, "send_emails": False, "confirm": True}}
        raw = self._write("POST", "users", json=body).json()
        return KisiUser(str(raw["id"]), raw.get("email") or email, raw.get("name") or name)

    # role assignments ------------------------------------------------------------
    def group_assignments(self, group_id: str) -> Iterator[list[RoleAssignment]]:
        """What Kisi holds for one group, a page at a time ([I] group filter: a Kisi that ignores
        it lists other groups' roles too, which are left out here, so the answer stays right)."""
        for page in self._list_pages("role_assignments", group_id=group_id, **GROUP_ASSIGNMENTS_FILTER):
            yield [a for raw in page.records
                   if (a := _assignment(raw, group_id)) is not None and a.group_id == str(group_id)]

    def group_assignments_page(self, group_id: str, *, offset: int = 0) -> ListPage:
        """One page of group_assignments from `offset`, with Kisi's total: a caller that knows
        the total can read the other pages at once."""
        page = self._list_page("role_assignments", offset=offset, group_id=group_id, **GROUP_ASSIGNMENTS_FILTER)
        kept = [a for raw in page.records
                if (a := _assignment(raw, group_id)) is not None and a.group_id == str(group_id)]
        return ListPage(kept, offset, page.total, sent=len(page.records))

    def user_assignments(self, user_id: str) -> list[RoleAssignment]:
        """One user's group roles ([C] user_id filter)."""
        return [a for page in self._list_pages("role_assignments", user_id=user_id, scope="group")
                for raw in page.records if (a := _assignment(raw, None)) is not None]

    def assignment_create(self, *, user_id: str, group_id: str, valid_from: datetime | None = None,
                          valid_until: datetime | None = None) -> RoleAssignment:
        """Give a user the basic role in a group, bounded by the window when one is given."""
        body = {"user_id": int(user_id) if user_id.isdigit() else user_id, "role_id": BASIC_ROLE,
                "group_id": int(group_id) if group_id.isdigit() else group_id}
        if valid_from is not None:
            body["valid_from"] = iso_utc(valid_from)
        if valid_until is not None:
            body["valid_until"] = iso_utc(valid_until)
        raw = self._write("POST", "role_assignments", json={"role_assignment": body}).json()
        return RoleAssignment(str(raw["id"]), user_id, group_id, raw.get("role_id") or BASIC_ROLE,
                              valid_from, valid_until)

    def assignment_delete(self, assignment_id: str) -> None:
        """Remove a role assignment; one Kisi no longer has counts as removed."""
        try:
            self.http.request("DELETE", f"role_assignments/{assignment_id}")  # retried on 429 by VendorHTTP
        except KisiNotFound:
            return

    # unlock events ----------------------------------------------------------------
    def unlock_events(self, *, start: datetime, end: datetime) -> Iterator[EventsPage]:
        """Unlock events created in [start, end), a page at a time ([I] event sets)."""
        query = {"event_type": UNLOCK_EVENT, "interval": {"start": iso_utc(start), "end": iso_utc(end)},
                 "limit": PAGE_SIZE}
        cursor = None
        while True:
            body = {"event_set": {**query, **({"cursor": cursor} if cursor else {})}}
            answer = self.http.request("POST", "event_sets", json=body, idempotent=True).json()
            page = EventsPage([UnlockEvent.from_api(e) for e in answer.get("events") or []],
                              answer.get("next_cursor"))
            yield page
            if not page.next_cursor or not page.events:
                return
            cursor = page.next_cursor


def _assignment(raw: dict, group_id: str | None) -> RoleAssignment | None:
    """A listed role assignment, or None when it is not a user's group role we can read."""
    if not isinstance(raw, dict) or raw.get("id") is None or raw.get("user_id") is None:
        return None
    group = raw.get("group_id") if raw.get("group_id") is not None else group_id
    if group is None:
        return None
    try:
        valid_from, valid_until = parse_time(raw.get("valid_from")), parse_time(raw.get("valid_until"))
    except ValueError:
        valid_from, valid_until = None, None
    return RoleAssignment(str(raw["id"]), str(raw["user_id"]), str(group), raw.get("role_id") or BASIC_ROLE,
                          valid_from, valid_until)
