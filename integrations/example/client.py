"""The example vendor's API client: HTTP in, typed records out; no Django models, no mapping.

A client knows the vendor's URLs, authentication and paging. It turns each answer into a
small frozen dataclass so the rest of the package never indexes a vendor's dict; what a
field *means* for Gatehouse is mapping.py's business.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from integrations.http import VendorHTTP


@dataclass(frozen=True)
class Member:
    """One vendor member as sent. Fields are read leniently (a missing name is None) because
    judging a record is mapping.py's job; `payload` keeps the body for a sync issue."""

    id: str
    seq: int = 0
    first_name: Any = None  # not validated here: mapping.py refuses a member without one
    last_name: str = ""
    email: str = ""
    number: str = ""
    birth: Any = None  # ISO date as sent; mapping.py parses it
    active: bool = True
    deleted: bool = False
    payload: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_api(cls, body: Any) -> "Member":
        if not isinstance(body, dict):
            return cls(id="", payload={"body": body})
        return cls(
            id=str(body.get("id") or ""), seq=int(body.get("seq") or 0), first_name=body.get("first_name"),
            last_name=body.get("last_name") or "", email=body.get("email") or "", number=body.get("number") or "",
            birth=body.get("birth"), active=bool(body.get("active", True)), deleted=bool(body.get("deleted")),
            payload=body,
        )


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
