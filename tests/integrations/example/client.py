"""The example vendor's API client: typed records in and out, no Django models."""

from collections.abc import Iterator
from dataclasses import dataclass

from integrations.http import VendorHTTP


@dataclass(frozen=True)
class MembersPage:
    members: list[dict]
    next_after: int | None
    total: int


class ExampleClient:
    def __init__(self, *, base_url: str, api_key: str, **http_options):
        self.http = VendorHTTP(
            vendor="example", base_url=base_url, headers={"X-Api-Key": api_key},
            secrets=[api_key], **http_options,
        )

    def ping(self) -> str:
        return self.http.request("GET", "ping").json()["name"]

    def products(self) -> list[dict]:
        return self.http.request("GET", "products").json()

    def member(self, member_id: str) -> dict:
        return self.http.request("GET", f"members/{member_id}").json()

    def members_page(self, *, after: int, limit: int = 100) -> MembersPage:
        body = self.http.request("GET", "members", params={"after": after, "limit": limit}).json()
        return MembersPage(body["members"], body.get("next_after"), body.get("total", 0))

    def members(self, *, after: int, limit: int = 100) -> Iterator[MembersPage]:
        while True:
            page = self.members_page(after=after, limit=limit)
            yield page
            if page.next_after is None:
                return
            after = page.next_after

    def verify_member(self, *, login: str, password: str) -> dict | None:
        """The member these credentials belong to, or None."""
        body = self.http.request("POST", "members/verify", json={"login": login, "password": password}).json()
        return body.get("member") if body.get("valid") else None

    def verify_member_token(self, *, token: str) -> tuple[dict | None, str]:
        """(the member, "") for a good partner-app token, else (None, why)."""
        body = self.http.request("POST", "member-tokens/verify", json={"token": token}).json()
        return (body.get("member"), "") if body.get("valid") else (None, body.get("reason", "refused"))
