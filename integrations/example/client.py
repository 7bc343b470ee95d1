"""The example vendor's API client: HTTP in, typed records out; no Django models, no mapping.

A client knows the vendor's URLs, authentication and paging. It turns each body it reads
into a VendorRecord (integrations/records.py: a frozen dataclass whose fields name the keys
they are read from), so the rest of the package never indexes a vendor's dict; what a field
*means* for Gatehouse is mapping.py's business.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from integrations.http import VendorHTTP
from integrations.records import VendorRecord, api


@dataclass(frozen=True)
class Member(VendorRecord):
    """One vendor member as sent, read leniently (a missing name is None): judging a record
    is mapping.py's job. `Member.from_api(body)` reads every `api()` field; `payload` keeps
    the body for a sync issue (see integrations/records.py for the rule)."""

    id: str = api("id", read=lambda v: str(v or ""))
    seq: int = api("seq", read=lambda v: int(v or 0))  # the change sequence number: the cursor
    first_name: Any = api("first_name")  # not validated here: mapping.py refuses a member without one
    last_name: str = api("last_name", read=lambda v: v or "")
    email: str = api("email", read=lambda v: v or "")
    number: str = api("number", read=lambda v: v or "")
    birth: Any = api("birth")  # ISO date as sent; mapping.py parses it
    active: bool = api("active", read=bool, default=True)
    deleted: bool = api("deleted", read=bool)


@dataclass(frozen=True)
class Product:
    code: str
    name: str
    credits: int | None = None


@dataclass(frozen=True)
class MembersPage:
    members: list[Member]
    next_after: int | None
    total: int


class ExampleClient:
    def __init__(self, *, base_url: str, api_key: str, **http_options):
        # VendorHTTP does retries, timeouts and redacted logging; `secrets` never reach a log.
        self.http = VendorHTTP(
            vendor="example", base_url=base_url, headers={"X-Api-Key": api_key},
            secrets=[api_key], **http_options,
        )

    def ping(self) -> str:
        return self.http.request("GET", "ping").json()["name"]

    def products(self) -> list[Product]:
        return [Product(code=p["code"], name=p["name"], credits=p.get("credits"))
                for p in self.http.request("GET", "products").json()]

    def member(self, member_id: str) -> Member:
        return Member.from_api(self.http.request("GET", f"members/{member_id}").json())

    def members_page(self, *, after: int, limit: int = 100) -> MembersPage:
        body = self.http.request("GET", "members", params={"after": after, "limit": limit}).json()
        return MembersPage([Member.from_api(m) for m in body["members"]], body.get("next_after"),
                           body.get("total", 0))

    def members(self, *, after: int, limit: int = 100) -> Iterator[MembersPage]:
        """Every member changed after sequence number `after`, page by page."""
        while True:
            page = self.members_page(after=after, limit=limit)
            yield page
            if page.next_after is None:
                return
            after = page.next_after

    def verify_member(self, *, login: str, password: str) -> Member | None:
        """The member these credentials belong to, or None."""
        body = self.http.request("POST", "members/verify", json={"login": login, "password": password}).json()
        return Member.from_api(body.get("member")) if body.get("valid") else None

    def verify_member_token(self, *, token: str) -> tuple[Member | None, str]:
        """(the member, "") for a good partner-app token, else (None, why)."""
        body = self.http.request("POST", "member-tokens/verify", json={"token": token}).json()
        return (Member.from_api(body.get("member")), "") if body.get("valid") else (None, body.get("reason", "refused"))
