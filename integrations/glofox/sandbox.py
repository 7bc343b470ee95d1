"""Glofox's fake: branches, the membership catalogue, members with their embedded
membership, credit packs, branch bookings (meta envelope, branch-local string times)
and the check-ins it receives, with Glofox's quirks: `success: false` on an HTTP 200,
and 429 over 10 requests a second (a token bucket, with Retry-After). Webhooks are
signed like Glofox's (`signature`: hex HMAC-SHA256 of the body).
"""

import hashlib
import hmac
import itertools
import json
import math
import threading
import time
import zoneinfo
from collections import Counter
from datetime import UTC, datetime, timedelta

import requests

from integrations.sandbox import CONTROL_PREFIX, Sandbox, SandboxResponse, route

API_KEY = "glofox-sandbox-key-5521"
API_TOKEN = "glofox-sandbox-token-8830"  # noqa: S105 - the fake's own token
BRANCH_ID = "5a9e1c2b3d4e5f6071829301"
SECOND_BRANCH_ID = "5a9e1c2b3d4e5f6071829302"
UNLIMITED, CLASSES, PACK, PAYG = ("60aa00000000000000000001", "60aa00000000000000000002",
                                  "60aa00000000000000000003", "60aa00000000000000000004")
SECOND_UNLIMITED = "60aa00000000000000000011"
CATALOGUE = {
    BRANCH_ID: [(UNLIMITED, "Unlimited monthly", "time"), (CLASSES, "8 classes a month", "time_classes"),
                (PACK, "10-class pack", "num_classes"), (PAYG, "Drop-in", "payg")],
    SECOND_BRANCH_ID: [(SECOND_UNLIMITED, "Downtown unlimited", "time")],
}
STATUS_CODES = {400: "BAD_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND",
                429: "TOO_MANY_REQUESTS", 500: "INTERNAL_ERROR", 502: "BAD_GATEWAY", 503: "UNAVAILABLE"}
LOCAL = "%Y-%m-%d %H:%M:%S"


class TokenBucket:
    """Glofox's rate limit: `rate` requests a second, `burst` at once."""

    def __init__(self, rate: float, burst: int):
        self.rate, self.burst, self.tokens = rate, burst, float(burst)
        self.stamp = time.monotonic()
        self.lock = threading.Lock()

    def __deepcopy__(self, memo) -> "TokenBucket":  # a twin sandbox (Sandbox.twin) starts full
        return TokenBucket(self.rate, self.burst)

    def take(self) -> float:
        """0 when the request may pass, else the seconds until it could."""
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1:
                self.tokens -= 1
                return 0.0
            return (1 - self.tokens) / self.rate


class GlofoxSandbox(Sandbox):
    kind = "glofox"

    def setup(self, *, members: int) -> None:
        self.ids = itertools.count(1)
        self.bucket = TokenBucket(rate=10, burst=1000)  # a live account's limits
        self.rate_limited = 0
        self.soft_failures: list[dict] = []
        self.branches = {
            BRANCH_ID: {"_id": BRANCH_ID, "name": "Glofox Central",
                        "address": {"timezone_id": "Europe/London"}},
            SECOND_BRANCH_ID: {"_id": SECOND_BRANCH_ID, "name": "Glofox Downtown",
                               "address": {"timezone_id": "America/New_York"}},
        }
        self.catalogue = {branch: [{"_id": i, "name": n, "plans": [{"code": f"{i[-4:]}-1", "type": t}]}
                                   for i, n, t in entries] for branch, entries in CATALOGUE.items()}
        self.members: dict[str, dict[str, dict]] = {branch: {} for branch in self.branches}
        self.bookings: dict[str, dict[str, dict]] = {branch: {} for branch in self.branches}
        self.credit_packs: dict[str, list[dict]] = {}
        self.accesses: list[dict] = []
        self.attendances: list[dict] = []
        self._seed(members)

    # state helpers (tests and the seed use them) -------------------------------
    def oid(self, kind: int) -> str:
        return f"{kind:02x}{next(self.ids):022x}"

    @staticmethod
    def clock() -> int:
        return int(time.time())

    def member_add(self, *, branch: str = BRANCH_ID, membership: str | None = UNLIMITED,
                   status: str = "ACTIVE", start: datetime | None = None, expiry: datetime | None = None,
                   **fields) -> dict:
        """A new client of `branch`, holding `membership` (None: none)."""
        member_id = self.oid(0x6b)
        number = len(self.members[branch]) + 1
        member = {"_id": member_id, "branch_id": branch, "first_name": f"Member{number}",
                  "last_name": f"Glofox{number}", "email": f"member{member_id[-8:]}@glofox.example",
                  "phone": f"+4477009{number:05d}", "birth": "1990-05-17", "type": "member", "active": True,
                  "access_barcode": member_id[-10:], "created": self.clock(), "modified": self.clock(),
                  **fields}
        self.members[branch][member_id] = member
        if membership:
            self.membership_set(member_id, membership=membership, status=status, start=start, expiry=expiry)
        return member

    def member_find(self, member_id: str) -> dict:
        return next(m[member_id] for m in self.members.values() if member_id in m)

    def member_put(self, member_id: str, **fields) -> dict:
        """Change a member as Glofox would (its modified date moves)."""
        member = self.member_find(member_id)
        member.update(fields, modified=self.clock())
        return member

    def membership_set(self, member_id: str, *, membership: str | None, status: str = "ACTIVE",
                       start: datetime | None = None, expiry: datetime | None = None) -> dict:
        """Give a member a (new) membership, or change its status and dates."""
        member = self.member_find(member_id)
        if membership is None:
            member.pop("membership", None)
            return self.member_put(member_id)
        kind, name = next((t["plans"][0]["type"], t["name"]) for c in self.catalogue.values()
                          for t in c if t["_id"] == membership)
        held = member.get("membership") or {}
        now = datetime.now(UTC)
        start = start or now - timedelta(days=30)
        if expiry is None and kind != "payg":
            expiry = now + timedelta(days=335)
        same = held.get("membership_id") == membership
        member["membership"] = {
            "type": kind, "status": status, "start_date": int(start.timestamp()),
            "expiry_date": int(expiry.timestamp()) if expiry else None, "membership_id": membership,
            "membership_name": name, "plan_code": f"{membership[-4:]}-1",
            "user_membership_id": held["user_membership_id"] if same else self.oid(0x75),
        }
        if kind == "num_classes" and not same:
            self.credit_packs[member_id] = [{"_id": self.oid(0x63), "user_id": member_id, "num_sessions": 10,
                                             "active": True, "bookings": [], "membership_id": membership,
                                             "start_date": int(start.timestamp()),
                                             "end_date": int(expiry.timestamp()) if expiry else None}]
        return self.member_put(member_id)

    def booking_add(self, member_id: str, *, start: datetime, minutes: int = 60, status: str = "BOOKED",
                    event_name: str = "Spin", branch: str = BRANCH_ID) -> dict:
        """A member books a class at `start` (aware); the list shows branch-local times."""
        zone = zoneinfo.ZoneInfo(self.branches[branch]["address"]["timezone_id"])
        event_id = "6e" + hashlib.sha256(f"{branch}{event_name}{start.isoformat()}".encode()).hexdigest()[:22]
        finish = start + timedelta(minutes=minutes)
        booking = {"_id": self.oid(0x62), "branch_id": branch, "user_id": member_id, "status": status,
                   "event_id": event_id, "event_name": event_name, "model": "events", "model_id": event_id,
                   "attended": False, "time_start": start.astimezone(zone).strftime(LOCAL),
                   "time_finish": finish.astimezone(zone).strftime(LOCAL), "modified": self.clock(),
                   "_start": int(start.timestamp())}
        self.bookings[branch][booking["_id"]] = booking
        for pack in self.credit_packs.get(member_id, []):
            if status == "BOOKED" and pack["num_sessions"] > 0:
                pack["num_sessions"] -= 1
                pack["bookings"].append(booking["_id"])
                break
        return booking

    def booking_set(self, booking_id: str, **fields) -> dict:
        """Change a booking (e.g. status="CANCELED"); its modified date moves."""
        booking = next(b[booking_id] for b in self.bookings.values() if booking_id in b)
        booking.update(fields, modified=self.clock())
        return booking

    def fail_softly(self, *, path: str = "", message: str = "Something went wrong",
                    code: str = "UNKNOWN_ERROR", times: int = 1) -> None:
        """The next `times` calls under `path` answer HTTP 200 with success: false."""
        with self.lock:
            self.soft_failures.append({"path": path, "message": message, "code": code, "times": times})

    def rate_limit(self, *, rate: float, burst: int) -> None:
        self.bucket = TokenBucket(rate=rate, burst=burst)

    def webhook(self, secret: str, event_type: str, data: dict, *,
                branch: str = BRANCH_ID) -> tuple[bytes, dict]:
        """A webhook delivery as Glofox sends it: (body, headers)."""
        body = json.dumps({"event_type": event_type, "branch_id": branch, "data": data}).encode()
        return body, {"signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
                      "Content-Type": "application/json"}

    def webhook_send(self, url: str, secret: str, event_type: str, data: dict, *,
                     branch: str = BRANCH_ID) -> requests.Response:
        """Emit a signed webhook to `url` (5 s timeout, like Glofox)."""
        body, headers = self.webhook(secret, event_type, data, branch=branch)
        return requests.post(url, data=body, headers=headers, timeout=5)

    def _seed(self, count: int) -> None:
        """`count` members across the membership types (some lapsed), and count/4 bookings
        of classes in the next 24 hours (a few cancelled)."""
        kinds = [UNLIMITED] * 4 + [CLASSES] * 2 + [PACK] * 2 + [PAYG] * 2
        now = datetime.now(UTC).replace(microsecond=0)
        created = []
        for n in range(count):
            membership = kinds[n % len(kinds)]
            lapsed = n % 11 == 10
            member = self.member_add(membership=membership, status="EXPIRED" if lapsed else "ACTIVE",
                                     created=self.clock() - self.rng.randint(1, 90) * 86400)
            member["modified"] = member["created"]
            created.append(member["_id"])
        first = now.replace(minute=0, second=0) + timedelta(hours=1)
        slots = [first + timedelta(minutes=30 * i) for i in range(48)]
        for n in range(count // 4 if created else 0):
            booking = self.booking_add(self.rng.choice(created), start=slots[n % len(slots)],
                                       event_name=["Spin", "Yoga", "HIIT", "Pilates"][n % 4],
                                       status="CANCELED" if n % 10 == 9 else "BOOKED")
            booking["modified"] -= 3600

    # transport ---------------------------------------------------------------
    def error(self, status: int, message: str) -> SandboxResponse:
        return SandboxResponse(status, {"success": False, "message": message,
                                        "message_code": STATUS_CODES.get(status, "ERROR")})

    def handle(self, request, *, timeout=None):
        if request.path.startswith(CONTROL_PREFIX):  # never counted, never rate limited
            return super().handle(request, timeout=timeout)
        wait = self.bucket.take()
        if wait:
            with self.lock:
                self.calls.append(request)
                self.rate_limited += 1
            response = self.error(429, "Too many requests")
            response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
            return response
        with self.lock:
            soft = next((f for f in self.soft_failures if f["times"] > 0 and f["path"] in request.path), None)
            if soft:
                soft["times"] -= 1
                self.calls.append(request)
                return SandboxResponse(200, {"success": False, "message": soft["message"],
                                             "message_code": soft["code"]})
        return super().handle(request, timeout=timeout)

    def _control(self, request) -> SandboxResponse:
        """Sandbox-only routes for a benchmark serving this fake from another process."""
        if request.method == "GET" and request.path == "_sandbox/state":
            calls = Counter(f"{c.method} {'/'.join(c.path.split('/')[:2])}" for c in self.calls)
            return SandboxResponse(200, {
                "members": sum(len(m) for m in self.members.values()),
                "bookings": sum(len(b) for b in self.bookings.values()), "accesses": len(self.accesses),
                "attendances": len(self.attendances), "rate_limited": self.rate_limited, "calls": calls})
        return super()._control(request)

    def authenticate(self, request):
        if request.header("x-api-key") != API_KEY or request.header("x-glofox-api-token") != API_TOKEN:
            return self.error(401, "Invalid API key or token")
        if request.header("x-glofox-branch-id") not in self.branches:
            # Older endpoints say no with a 200.
            return SandboxResponse(200, {"success": False, "message": "This location is not whitelisted",
                                         "message_code": "BRANCH_NOT_WHITELISTED"})
        return None

    @staticmethod
    def _envelope(items: list, request) -> SandboxResponse:
        page = max(1, int(request.query.get("page") or 1))
        limit = min(100, max(1, int(request.query.get("limit") or 50)))
        chunk = items[(page - 1) * limit: page * limit]
        return SandboxResponse(200, {"object": "list", "page": page, "limit": limit,
                                     "has_more": page * limit < len(items), "total_count": len(items),
                                     "data": chunk, "success": True})

    @staticmethod
    def _between(value: int | None, low: str | None, high: str | None) -> bool:
        return (not low or (value or 0) >= int(low)) and (not high or (value or 0) <= int(high))

    # routes ------------------------------------------------------------------
    @route("GET", r"2\.0/branches/(?P<branch>\w+)")
    def branch_get(self, request):
        found = self.branches.get(request.match["branch"])
        return SandboxResponse(200, found) if found else self.error(404, "Branch not found")

    @route("GET", r"2\.0/members")
    def members_list(self, request):
        branch = request.header("x-glofox-branch-id")
        low, high = request.query.get("utc_modified_start_date"), request.query.get("utc_modified_end_date")
        chosen = [m for m in self.members[branch].values() if self._between(m["modified"], low, high)]
        response = self._envelope(chosen, request)
        response.body["data"] = [json.loads(json.dumps(m)) for m in response.body["data"]]
        if response.body["data"] and self.take_malformed():
            response.body["data"][0] = self._broken(response.body["data"][0])
        return response

    @route("GET", r"2\.0/members/(?P<member>\w+)")
    def member_get(self, request):
        found = self.members[request.header("x-glofox-branch-id")].get(request.match["member"])
        if not found:
            return self.error(404, "Member not found")
        found = json.loads(json.dumps(found))
        return SandboxResponse(200, {"success": True, "data": self._broken(found) if self.take_malformed() else found})

    @staticmethod
    def _broken(member: dict) -> dict:
        """A malformed fault: the member's membership starts on a date nobody can read."""
        membership = member.get("membership") or {"membership_id": UNLIMITED}
        return {**member, "membership": {**membership, "start_date": "next tuesday"}}

    @route("GET", r"2\.0/memberships")
    def memberships_list(self, request):
        return self._envelope(self.catalogue[request.header("x-glofox-branch-id")], request)

    @route("GET", r"2\.0/credits")
    def credits_list(self, request):
        return self._envelope(self.credit_packs.get(request.query.get("user_id", ""), []), request)

    @route("GET", r"2\.2/branches/(?P<branch>\w+)/bookings")
    def bookings_list(self, request):
        if request.match["branch"] not in self.bookings:
            return self.error(404, "Branch not found")
        query = request.query
        chosen = [b for b in self.bookings[request.match["branch"]].values()
                  if self._between(b["modified"], query.get("modified_start_date"), None)
                  and self._between(b["_start"], query.get("time_start_start_date"),
                                    query.get("time_start_end_date"))
                  and (not query.get("status") or b["status"] == query["status"])]
        page = max(1, int(query.get("page") or 1))
        limit = min(100, max(1, int(query.get("limit") or 50)))
        data = [{k: v for k, v in b.items() if not k.startswith("_") or k == "_id"}
                for b in chosen[(page - 1) * limit: page * limit]]
        if data and self.take_malformed():
            data[0] = {**data[0], "time_start": "31/12/2026 10:00"}
        return SandboxResponse(200, {"meta": {"totalCount": len(chosen), "page": page, "limit": limit},
                                     "data": data})

    @route("POST", r"2\.0/access")
    def access_create(self, request):
        body = request.json() or {}
        if not body.get("user_id") or not body.get("branch_id") or not isinstance(body.get("entry_at"), int):
            return self.error(400, "user_id, branch_id and entry_at are required")
        self.accesses.append(body)
        return SandboxResponse(200, {"success": True, "data": {"_id": self.oid(0x61), **body}})

    @route("POST", r"2\.0/attendances")
    def attendance_create(self, request):
        body = request.json() or {}
        if not body.get("user_id") or not isinstance(body.get("model_ids"), list) \
                or body.get("model") != "events":
            return self.error(400, "user_id, model and model_ids are required")
        self.attendances.append(body)
        return SandboxResponse(200, {"success": True, "data": {"attended": True, **body}})
