"""The Perfect Gym OData API and nothing else: typed rows out, errors mapped.

Each entity set the package reads comes as a small frozen dataclass (ENTITY_SETS), a
VendorRecord (integrations/records.py) read leniently from the vendor's camelCase body.

Paging follows `@odata.nextLink` until it is absent; the change cursor is the largest
`version` seen (the vendor's delta recipe, used for the first full load too). A change
walk reads pages ahead in a worker thread, so the vendor's time overlaps ours.
"""

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import requests

from integrations.errors import PermanentError, VendorError, status_summary
from integrations.fetching import read_ahead
from integrations.http import VendorHTTP
from integrations.records import VendorRecord, api

# Ids per `id eq 1 or id eq 2 ...` filter: keeps the URL far below common 8 KB limits.
IDS_PER_QUERY = 60
CREDENTIAL_TIMEOUT = (3.0, 10.0)  # a login waits on this; it is never retried
BUSINESS_CODE = re.compile(r"[A-Za-z]{1,60}")  # e.g. MemberNotFound


class BusinessError(PermanentError):
    """A 499 answer: the vendor's business or validation error, with its code."""

    def __init__(self, message: str, *, code: str = ""):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Row(VendorRecord):
    """What every Perfect Gym row has: an int64 id, a version and a soft delete.

    Values are kept as sent (a text id stays text) so mapping.py can say what is wrong;
    `payload` is the vendor's body, for the sync issue of a row mapping refuses; `key` is
    the id as text."""

    id: Any = api("id")
    version: Any = api("version")
    deleted: bool = api("isDeleted", read=bool)


@dataclass(frozen=True)
class Member(Row):
    number: Any = api("number")  # the customer number
    first_name: Any = api("firstName")
    last_name: Any = api("lastName")
    email: Any = api("email")
    phone: Any = api("phoneNumber")
    birthdate: Any = api("birthdate")  # ISO date as sent
    home_club_id: Any = api("homeClubId")
    active: bool = api("isActive", read=lambda v: v is not False, default=True)


@dataclass(frozen=True)
class Contract(Row):
    member_id: Any = api("memberId")
    club_id: Any = api("clubId")
    payment_plan_id: Any = api("paymentPlanId")
    status: Any = api("status")  # Current|Ended|NotStarted|Freezed
    sign_up_date: Any = api("signUpDate")
    start_date: Any = api("startDate")
    end_date: Any = api("endDate")  # null: open-ended


@dataclass(frozen=True)
class MemberProduct(Row):
    member_id: Any = api("memberId")
    club_id: Any = api("clubId")
    product_id: Any = api("productId")
    current_quantity: Any = api("currentQuantity")
    purchase_date: Any = api("purchaseDate")
    expiry_date: Any = api("expiryDate")


@dataclass(frozen=True)
class MemberClubVisit(Row):
    member_id: Any = api("memberId")
    club_id: Any = api("clubId")
    enter_date: Any = api("enterDate")


@dataclass(frozen=True)
class PaymentPlan(Row):
    name: Any = api("name")
    active: bool = api("isActive", read=bool, default=True)
    additional: bool = api("isAdditional", read=bool)
    interval_months: Any = api("paymentInterval.months")
    interval_days: Any = api("paymentInterval.days")


@dataclass(frozen=True)
class Product(Row):
    name: Any = api("name")
    product_type: Any = api("productType")  # Good|Service|Bundle


@dataclass(frozen=True)
class Club(Row):
    name: Any = api("name")


# The entity sets the package reads, and the record each row becomes.
ENTITY_SETS: dict[str, type[Row]] = {
    "Members": Member, "Contracts": Contract, "MemberProducts": MemberProduct,
    "MemberClubVisits": MemberClubVisit, "PaymentPlans": PaymentPlan, "Products": Product, "Clubs": Club,
}


@dataclass(frozen=True)
class ODataPage:
    """One answer of a collection query, its rows as records."""

    rows: list[Row]
    count: int | None = None  # @odata.count when asked for
    next_link: str | None = None


@dataclass(frozen=True)
class CredentialAnswer:
    """What MemberAuth said: `status` is NoAccount, NoPassword, InvalidUsernameOrPassword or Success."""

    status: str
    member_id: int | None = None
    raw: dict = field(default_factory=dict)


def business_error(response: requests.Response) -> VendorError | None:
    """The 499 envelope (and a plain 404) as a BusinessError; VendorHTTP maps the rest.

    The envelope's code is kept for the callers' decisions when it looks like one (a word,
    e.g. MemberNotFound); its message stays out: error messages reach admin pages.
    """
    if response.status_code == 404:
        return BusinessError("perfectgym: NotFound", code="NotFound")
    if response.status_code != 499:
        return None
    try:
        errors = response.json().get("errors") or [{}]
        first = errors[0] if isinstance(errors[0], dict) else {}
    except (ValueError, AttributeError, IndexError):
        first = {}
    code = str(first.get("code") or "")
    code = code if BUSINESS_CODE.fullmatch(code) else "BusinessError"
    path = response.request.path_url.split("?")[0] if response.request is not None else ""
    return BusinessError(f"perfectgym: {path} answered 499: {status_summary(499)} (a business error)",
                         code=code)


def ids_filter(ids: Iterable[int], field_name: str = "id") -> str:
    """`id eq 1 or id eq 2 ...` for a handful of ids."""
    return " or ".join(f"{field_name} eq {int(i)}" for i in ids)


class PerfectGymClient:
    """One Perfect Gym install, reached with its two key headers."""

    def __init__(self, *, base_url: str, client_id: str, client_secret: str, **http_options):
        def session() -> VendorHTTP:
            return VendorHTTP(
                vendor="perfectgym", base_url=base_url if base_url.endswith("/") else base_url + "/",
                headers={"X-Client-Id": client_id, "X-Client-Secret": client_secret,
                         "Accept": "application/json"},
                secrets=[client_secret], error_hook=business_error, **http_options,
            )

        self.http = session()
        self.pager = session()  # its own session: it runs in the read-ahead thread

    # collections -------------------------------------------------------------
    def query_page(self, entity_set: str, url: str, params: dict | None = None, *,
                   http: VendorHTTP | None = None) -> ODataPage:
        """One page of a collection, from a path and query or from a nextLink."""
        body = (http or self.http).request("GET", url, params=params).json()
        if not isinstance(body, dict) or not isinstance(body.get("value"), list):
            raise PermanentError("perfectgym: a collection answer without a value list")
        record = ENTITY_SETS[entity_set]
        return ODataPage([record.from_api(row) for row in body["value"]], body.get("@odata.count"),
                         body.get("@odata.nextLink"))

    def query(self, entity_set: str, *, filter: str = "", orderby: str = "", top: int | None = None,
              count: bool = False, http: VendorHTTP | None = None) -> Iterator[ODataPage]:
        """Every page of `odata/<entity_set>`, following @odata.nextLink until it is absent."""
        params = {"$filter": filter, "$orderby": orderby, "$top": top, "$count": "true" if count else None}
        page = self.query_page(entity_set, f"odata/{entity_set}", {k: v for k, v in params.items() if v}, http=http)
        yield page
        while page.next_link:
            page = self.query_page(entity_set, page.next_link, http=http)
            yield page

    def changes(self, entity_set: str, *, after: int | None, filter: str = "",
                ahead: int = 1) -> Iterator[ODataPage]:
        """Rows changed after version `after` (None: all), oldest change first, page by page.

        The next `ahead` pages are fetched while the caller works on this one.
        """
        parts = [f"version gt {int(after or 0)}"] + ([f"({filter})"] if filter else [])
        return read_ahead(self.query(entity_set, filter=" and ".join(parts), orderby="version", count=True,
                                     http=self.pager), depth=ahead)

    def rows(self, entity_set: str, *, filter: str = "") -> list[Row]:
        """Every row of a (small) collection, e.g. the catalogue."""
        return [row for page in self.query(entity_set, filter=filter) for row in page.rows]

    def latest_version(self, entity_set: str) -> int:
        """The highest `version` in an entity set now (0 when it is empty)."""
        page = self.query_page(entity_set, f"odata/{entity_set}", {"$orderby": "version desc", "$top": 1})
        return int(page.rows[0].version) if page.rows else 0

    def by_ids(self, entity_set: str, ids: Iterable[int]) -> list[Row]:
        """The rows with these ids, a few dozen ids per call."""
        wanted = sorted({int(i) for i in ids})
        found: list[Row] = []
        for start in range(0, len(wanted), IDS_PER_QUERY):
            found += self.rows(entity_set, filter=ids_filter(wanted[start:start + IDS_PER_QUERY]))
        return found

    # one entity --------------------------------------------------------------
    def entity(self, entity_set: str, entity_id: int) -> Row | None:
        """`GET odata/<Set>/<id>`; None when the vendor does not know it."""
        try:
            response = self.http.request("GET", f"odata/{entity_set}/{int(entity_id)}")
        except BusinessError as error:
            if error.code.endswith("NotFound"):
                return None
            raise
        return ENTITY_SETS[entity_set].from_api(response.json())

    # member credentials ------------------------------------------------------
    def verify_member_credentials(self, *, email: str, password: str) -> CredentialAnswer:
        """MemberAuth/VerifyMemberCredentials: an email and a password."""
        return self._verify("MemberAuth/VerifyMemberCredentials", {"email": email, "password": password})

    def verify_credentials(self, *, login: str, password: str) -> CredentialAnswer:
        """MemberAuth/VerifyCredentials: an email or member number, and a password."""
        return self._verify("MemberAuth/VerifyCredentials", {"login": login, "password": password})

    def _verify(self, path: str, body: dict) -> CredentialAnswer:
        # Not retried: a login waits on it, and repeated attempts could lock the account.
        answer = self.http.request("POST", path, json=body, idempotent=False,
                                   timeout=CREDENTIAL_TIMEOUT).json()
        if not isinstance(answer, dict) or not isinstance(answer.get("status"), str):
            raise PermanentError("perfectgym: a credential answer without a status")
        member_id = answer.get("memberId")
        return CredentialAnswer(answer["status"], int(member_id) if member_id else None, answer)
