"""Momence's host API v2: OAuth2 password and refresh grants, paged lists, a few writes.

The API only, typed records in and out, no Django models (records.py holds the records:
read leniently, judged by mapping.py): tokens are kept by a `TokenStore` the caller gives
(the connector's stores them encrypted in the database; the default keeps them in
memory). Every call goes through integrations.http.VendorHTTP; the access token and
the refresh token join the sessions' redaction list as soon as they are known. A client
may be called from several threads at once (a sync reads bought memberships a few at a
time): each thread gets its own session, and all of them share one pacing and one token.
"""

import functools
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlencode

from integrations.errors import AuthError, PermanentError, VendorError
from integrations.http import VendorHTTP
from integrations.momence.records import (
    Appointment,
    BookingCheckIn,
    BoughtMembership,
    Member,
    Membership,
    MemberTag,
    Session,
    SessionBooking,
    Tag,
)
from integrations.pacing import CallPool

DEFAULT_BASE_URL = "https://api.momence.com/api/v2/"
PAGE_SIZE = 100  # the documented maximum of most lists
MAX_PAGES = 10_000
REFRESH_MARGIN = timedelta(minutes=5)  # refresh this long before the access token expires
# Inferred: the contract documents no rate limit, so every call of one client, whatever
# its thread, is paced to this many a second on average (bursts of RATE_BURST).
RATE_PER_SECOND, RATE_BURST = 5.0, 5


class TokenRefused(AuthError):
    """Momence refused the access token a reading thread holds. Renewing it reads and writes
    the token store (the database), which only the thread that made the client does: it
    renews `token` and asks again (momence.syncs.BoughtMembershipsSync)."""

    def __init__(self, token: str):
        super().__init__("momence: the access token was refused; renewed by the run's thread")
        self.token = token


class NotFound(PermanentError):
    """Momence answered 404: the member, tag or booking is not there."""


def _not_found(response) -> VendorError | None:
    if response.status_code == 404:
        return NotFound(f"momence: {response.request.method} {response.request.path_url.split('?')[0]} "
                        "answered 404")
    return None


def _json(response, what: str):
    try:
        return response.json()
    except ValueError:
        raise PermanentError(f"momence: {what} answered something that is not JSON") from None


@dataclass(frozen=True)
class Tokens:
    """What the token endpoint gave: both tokens and when each stops working."""

    access_token: str
    refresh_token: str
    access_expires_at: datetime
    refresh_expires_at: datetime | None = None


class TokenStore(Protocol):
    """Where a client keeps its tokens between calls (and, if it persists, between runs)."""

    def load(self) -> Tokens | None: ...

    def save(self, tokens: Tokens | None) -> None: ...


class MemoryTokenStore:
    """Tokens kept for the life of the process only."""

    def __init__(self):
        self.tokens: Tokens | None = None

    def load(self) -> Tokens | None:
        return self.tokens

    def save(self, tokens: Tokens | None) -> None:
        self.tokens = tokens


@dataclass(frozen=True)
class ListPage:
    """One page of a list: its items (typed records) and where it stands in the whole list."""

    items: list
    page: int
    page_size: int
    total: int | None

    @property
    def is_last(self) -> bool:
        if self.total is not None:
            return (self.page + 1) * self.page_size >= self.total
        return len(self.items) < self.page_size


def _as_sent(item):
    return item


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 date or date-time from Momence as an aware UTC datetime (None if absent)."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValueError(f"not a date-time: {value!r}")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


@functools.lru_cache(maxsize=1024)
def _query(params: tuple[tuple[str, Any], ...]) -> str:
    """A list's query string, encoded once per distinct query: every member's bought
    memberships are asked for with the same one."""
    return urlencode(params)


def iso(moment: datetime) -> str:
    """A datetime as Momence's query parameters take it (UTC, with Z)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class MomenceClient:
    """One Momence host account, logged in with a staff user (the password grant)."""

    def __init__(
        self,
        *,
        base_url: str,
        client_id: str,
        client_secret: str,
        username: str,
        password: str,
        store: TokenStore | None = None,
        clock: Callable[[], datetime] | None = None,
        **http_options,
    ):
        self.credentials = {"client_id": client_id, "client_secret": client_secret}
        self.username, self.password = username, password
        self.store = store or MemoryTokenStore()
        self.clock = clock or (lambda: datetime.now(UTC))
        options = {"rate_per_second": RATE_PER_SECOND, "burst": RATE_BURST, **http_options}
        # Every thread's session shares one pace, the waits Momence asks for and the secrets.
        self.pool = CallPool(rate=options.pop("rate_per_second"), burst=options.pop("burst"),
                             sleep=options.pop("sleep", time.sleep),
                             secrets=[client_id, client_secret, username, password])
        self._http_options = {"vendor": "momence", "base_url": base_url, "error_hook": _not_found,
                              "pool": self.pool, **options}
        self._sessions = threading.local()
        self._lock = threading.Lock()
        self._home = threading.get_ident()  # the thread that may use the token store
        self.tokens: Tokens | None = None  # in hand, so the store is read once per client

    @property
    def http(self) -> VendorHTTP:
        """This thread's session (a requests session is not shared between threads); every
        thread's session paces, waits and redacts with the others through the client's CallPool."""
        http = getattr(self._sessions, "http", None)
        if http is None:
            http = self._sessions.http = VendorHTTP(**self._http_options)
        return http

    # tokens ------------------------------------------------------------------
    def _grant(self, form: dict[str, str]) -> Tokens:
        """POST auth/token with one grant; the answer's tokens, redacted from now on."""
        # A grant repeated after a 5xx only issues another token: safe to retry.
        response = self.http.request("POST", "auth/token", data={**form, **self.credentials}, idempotent=True)
        body = _json(response, "POST auth/token")
        try:
            tokens = Tokens(
                access_token=str(body["access_token"]), refresh_token=str(body.get("refresh_token") or ""),
                access_expires_at=parse_time(body["accessTokenExpiresAt"]),
                refresh_expires_at=parse_time(body.get("refreshTokenExpiresAt")),
            )
        except (KeyError, TypeError, ValueError):
            raise PermanentError("momence: the token endpoint answered without a usable token") from None
        self._redact(tokens)
        self.store.save(tokens)
        return tokens

    def _redact(self, tokens: Tokens) -> None:
        """Make every session redact both tokens from every log line and error."""
        for token in (tokens.access_token, tokens.refresh_token):
            self.pool.secret_add(token)

    def _password_grant(self) -> Tokens:
        try:
            return self._grant({"grant_type": "password", "username": self.username,
                                "password": self.password})
        except PermanentError:
            # Momence answers a wrong password with a 400 invalid_grant.
            raise AuthError("momence: the token endpoint refused the client or the staff login") from None

    def _refresh_grant(self, tokens: Tokens) -> Tokens:
        """Use the refresh token while it lives; else, or when refused, log in again."""
        refreshable = tokens.refresh_token and (
            tokens.refresh_expires_at is None or tokens.refresh_expires_at > self.clock()
        )
        if refreshable:
            try:
                return self._grant({"grant_type": "refresh_token", "refresh_token": tokens.refresh_token})
            except (AuthError, PermanentError):
                pass  # expired or already used (another worker refreshed it): log in again
        return self._password_grant()

    def _load(self) -> Tokens | None:
        tokens = self.store.load()
        if tokens is not None:
            self._redact(tokens)
        return tokens

    def _expiring(self, tokens: Tokens, stale: str) -> bool:
        return tokens.access_token == stale or tokens.access_expires_at - REFRESH_MARGIN <= self.clock()

    def access_token(self, *, stale: str = "") -> str:
        """A live access token: the one in hand, else the stored one, refreshed before it
        expires. `stale` is a token the API just refused: it is replaced even if it looks
        alive. The store is read again before refreshing (another worker may have). Any other
        thread than the client's own uses the token in hand and never the store: it raises
        TokenRefused when that token is `stale` (or there is none)."""
        with self._lock:
            if threading.get_ident() != self._home:
                if self.tokens is None or self.tokens.access_token == stale:
                    raise TokenRefused(stale)
                return self.tokens.access_token
            tokens = self.tokens or self._load()
            if tokens is not None and self._expiring(tokens, stale):
                tokens = self._load()
                if tokens is not None and self._expiring(tokens, stale):
                    tokens = self._refresh_grant(tokens)
            if tokens is None:
                tokens = self._password_grant()
            self.tokens = tokens
            return tokens.access_token

    def call(self, method: str, path: str, **kwargs):
        """One authorised call; on a 401 the token is refreshed once and the call retried."""
        token = self.access_token()
        try:
            return self.http.request(method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs)
        except AuthError:
            token = self.access_token(stale=token)
        return self.http.request(method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs)

    # lists -------------------------------------------------------------------
    def list_page(self, path: str, *, page: int, page_size: int = PAGE_SIZE, record: Callable = _as_sent,
                  **params) -> ListPage:
        """One page of a list in Momence's {"payload", "pagination"} envelope, each item made
        a record by `record` (a `from_api`)."""
        # Encoded here, as requests would: a query string costs less per call than `params`.
        query = _query((*((k, v) for k, v in params.items() if v is not None), ("page", page), ("pageSize", page_size)))
        body = _json(self.call("GET", f"{path}?{query}"), f"GET {path}")
        if not isinstance(body, dict) or not isinstance(body.get("payload"), list):
            raise PermanentError(f"momence: GET {path} answered without a payload list")
        pagination = body.get("pagination") if isinstance(body.get("pagination"), dict) else {}
        total = pagination.get("totalCount")
        return ListPage(items=[record(item) for item in body["payload"]], page=page, page_size=page_size,
                        total=total if isinstance(total, int) else None)

    def list_pages(
        self, path: str, *, start: int = 0, page_size: int = PAGE_SIZE, record: Callable = _as_sent, **params
    ) -> Iterator[ListPage]:
        """Every page of a list from page `start` on."""
        page = start
        while True:
            answer = self.list_page(path, page=page, page_size=page_size, record=record, **params)
            yield answer
            if answer.is_last or not answer.items:
                return
            page += 1
            if page >= MAX_PAGES:  # a list that never ends: the vendor ignores `page`
                raise PermanentError(f"momence: GET {path} did not end after {MAX_PAGES} pages")

    def list_all(self, path: str, *, record: Callable = _as_sent, **params) -> list:
        """Every item of a (short) list."""
        return [item for page in self.list_pages(path, record=record, **params) for item in page.items]

    # resources ---------------------------------------------------------------
    def members(self, *, start: int = 0, page_size: int = PAGE_SIZE) -> Iterator[ListPage]:
        """Members, least recently seen first (a rescan sees anyone seen meanwhile at its end)."""
        return self.list_pages("host/members", start=start, page_size=page_size, record=Member.from_api,
                               sortBy="lastSeenAt", sortOrder="ASC")

    def tags(self, *, start: int = 0) -> Iterator[ListPage]:
        return self.list_pages("host/tags", start=start, record=Tag.from_api)

    def memberships(self) -> list[Membership]:
        """The membership catalogue (subscriptions, packs, ...).

        Each membership may carry the tags a manager put on it (Memberships > Edit > Add
        tag) as `tags`, [{id, name}] like a member's customerTags: inferred, the contract
        does not name the field, so a membership without it leaves its package's tags alone
        (Membership.tags is None).
        """
        return self.list_all("host/memberships", record=Membership.from_api)

    def bought_memberships(self, member_id: str) -> list[BoughtMembership]:
        """A member's active bought memberships."""
        return self.list_all(f"host/members/{member_id}/bought-memberships/active",
                             record=BoughtMembership.from_api)

    def sessions(
        self, *, start_after: datetime, start_before: datetime, start: int = 0
    ) -> Iterator[ListPage]:
        return self.list_pages("host/sessions", start=start, record=Session.from_api,
                               startAfter=iso(start_after), startBefore=iso(start_before))

    def session_bookings(self, session_id: str) -> list[SessionBooking]:
        """Every booking of a session, cancelled ones included (they cancel ours)."""
        return self.list_all(f"host/sessions/{session_id}/bookings", record=SessionBooking.from_api,
                             includeCancelled="true")

    def appointments(
        self, *, start_after: datetime, start_before: datetime, start: int = 0
    ) -> Iterator[ListPage]:
        return self.list_pages("host/appointments/reservations", start=start, record=Appointment.from_api,
                               startAfter=iso(start_after), startBefore=iso(start_before),
                               includeCancelled="true")

    def member_tag_add(self, tag: MemberTag) -> None:
        # Assigning a tag twice leaves it assigned: safe to repeat.
        self.call("POST", f"host/members/{tag.member_id}/tags/{tag.tag_id}", idempotent=True)

    def member_tag_remove(self, tag: MemberTag) -> None:
        """Unassign a tag; one the member does not have (404) is already gone."""
        try:
            self.call("DELETE", f"host/members/{tag.member_id}/tags/{tag.tag_id}")
        except NotFound:
            pass

    def session_booking_check_in(self, check_in: BookingCheckIn) -> None:
        # Checking a booking in twice leaves it checked in: safe to repeat.
        self.call("POST", f"host/session-bookings/{check_in.booking_id}/check-in", idempotent=True)

    def ping(self) -> int | None:
        """Log in and read one member; returns how many members the host has."""
        return self.list_page("host/members", page=0, page_size=1).total


