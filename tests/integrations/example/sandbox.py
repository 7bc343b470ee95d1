"""The example vendor's fake: members with a change sequence, paged, with faults."""

import hashlib
import hmac
import json

from integrations.sandbox import Sandbox, SandboxResponse, route

API_KEY = "example-key-123456"


class ExampleSandbox(Sandbox):
    kind = "example"

    def setup(self, *, members):
        self.seq = 0
        self.members: dict[str, dict] = {}
        for n in range(members):
            self.member_put(f"m{n}", first_name=f"First{n}", last_name=f"Last{n}",
                            email=f"m{n}@example.com", birth="1990-01-01", active=True)

    def member_put(self, member_id: str, **fields) -> dict:
        self.seq += 1
        member = self.members.setdefault(member_id, {"id": member_id, "deleted": False})
        member.update(fields, seq=self.seq)
        return member

    def member_delete(self, member_id: str) -> None:
        self.member_put(member_id, deleted=True)

    def webhook(self, secret: str, event: dict) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(event).encode()
        return body, {"X-Example-Signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}

    def authenticate(self, request):
        if request.header("X-Api-Key") != API_KEY:
            return self.error(401, "Unknown API key")
        return None

    @route("GET", r"ping")
    def ping(self, request):
        return SandboxResponse(200, {"name": "Example Club"})

    @route("GET", r"products")
    def products(self, request):
        return SandboxResponse(200, [{"code": "gold", "name": "Gold membership"},
                                     {"code": "pt10", "name": "10 PT sessions", "credits": 10}])

    @route("GET", r"members")
    def list_members(self, request):
        after, limit = int(request.query.get("after", 0)), int(request.query.get("limit", 100))
        changed = sorted((m for m in self.members.values() if m["seq"] > after), key=lambda m: m["seq"])
        page = [dict(m) for m in changed[:limit]]
        if page and self.take_malformed():
            page[0]["first_name"] = None
        more = len(changed) > limit
        return SandboxResponse(200, {"members": page, "next_after": page[-1]["seq"] if more else None,
                                     "total": len(changed)})
