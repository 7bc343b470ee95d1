"""The example vendor's fake: members with a change sequence, paged, with faults.

A sandbox implements just enough of the vendor's API, with the same URLs and bodies, for the
connector to run against it: under `responses` in tests, over HTTP with `manage.py sandbox
example --port N`. Faults (errors, slowness, malformed records) are injected by tests."""

import hashlib
import hmac
import json
import secrets
import time

from integrations.sandbox import Sandbox, SandboxResponse, route

API_KEY = "example-key-123456"


class ExampleSandbox(Sandbox):
    kind = "example"

    def setup(self, *, members):
        self.seq = 0
        self.members: dict[str, dict] = {}
        self.passwords: dict[str, str] = {}  # member id -> app password (never in member payloads)
        self.member_tokens: dict[str, dict] = {}  # partner-app token -> member id, expiry, used
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

    def member_password_set(self, member_id: str, password: str) -> None:
        self.passwords[member_id] = password

    def member_token_issue(self, member_id: str, *, ttl: float = 300) -> str:
        """A partner app's single-use member token, valid `ttl` seconds (negative: expired)."""
        token = "mt_" + secrets.token_urlsafe(16)
        self.member_tokens[token] = {"member": member_id, "expires": time.time() + ttl, "used": False}
        return token

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

    @route("GET", r"members/(?P<member_id>[\w-]+)")
    def get_member(self, request):
        member = self.members.get(request.match["member_id"])
        if member is None:
            return self.error(404, "No such member")
        return SandboxResponse(200, dict(member))

    @route("POST", r"members/verify")
    def verify_member(self, request):
        body = request.json() or {}
        login, password = str(body.get("login", "")).lower(), str(body.get("password", ""))
        member = next((m for m in self.members.values() if not m.get("deleted") and login in (
            m["id"].lower(), str(m.get("email", "")).lower(), str(m.get("number", "")).lower())), None)
        stored = self.passwords.get(member["id"], "") if member else ""
        if not stored or not hmac.compare_digest(stored.encode(), password.encode()):
            return SandboxResponse(200, {"valid": False})
        return SandboxResponse(200, {"valid": True, "member": dict(member)})

    @route("POST", r"member-tokens/verify")
    def verify_member_token(self, request):
        entry = self.member_tokens.get(str((request.json() or {}).get("token", "")))
        if entry is None:
            return SandboxResponse(200, {"valid": False, "reason": "unknown"})
        if entry["expires"] < time.time():
            return SandboxResponse(200, {"valid": False, "reason": "expired"})
        if entry["used"]:
            return SandboxResponse(200, {"valid": False, "reason": "replayed"})
        entry["used"] = True
        return SandboxResponse(200, {"valid": True, "member": dict(self.members[entry["member"]])})
