"""A fake Kisi (../shared/vendors/kisi.md): bare JSON arrays with X-Collection-Range,
`{"code", "error"}` errors, 204 on DELETE, places, groups, locks (online or not), users,
role assignments (one per user per group), unlocks and unlock events. It serves only
the calls integrations.kisi.contract lists: any other call is a 404, so it fails in tests first.

Tests and benchmarks read what it was asked through `call_counts()` / `writes()`, or
over HTTP through the sandbox-only `_sandbox/...` routes, which are never counted.

Kisi publishes no rate limit; set `rate_limit` (calls a second, or over HTTP `POST
_sandbox/rate_limit {"per_second": N}`) and calls beyond it in any one second answer
429 with `Retry-After` (whole seconds, as HTTP has it) and do nothing.
"""

import hashlib
import hmac
import json
import math
import time
import uuid
from collections import Counter
from datetime import UTC, datetime

from integrations.sandbox import CONTROL_PREFIX, Sandbox, SandboxResponse, route

API_KEY = "kisi-sandbox-key-5f2e91"
ORGANIZATION_ID = 1
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
NOT_WRITES = {"POST event_sets"}  # a search, sent as POST
CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
         422: "unprocessable_entity", 429: "too_many_requests", 500: "internal_server_error",
         502: "bad_gateway", 503: "service_unavailable"}


def _now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def webhook_sign(secret: str, event: dict) -> tuple[bytes, dict[str, str]]:
    """The body and headers Kisi posts for `event`: HMAC-SHA256 hex of the raw body."""
    body = json.dumps(event).encode()
    return body, {"X-Signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
                  "Content-Type": "application/json"}


class KisiSandbox(Sandbox):
    """An organisation with two places, an organisation group, a place group and three locks.

    `members` pre-existing users (not made by Gatehouse) have the demo's client emails,
    so the demo shows users found by exact email; benchmarks start with `members=0`.
    """

    kind = "kisi"
    keep_alive = True  # Kisi's API keeps connections open: one per calling thread, not one per call
    clock = staticmethod(time.monotonic)  # what the rate limit counts seconds by (tests set their own)

    def setup(self, *, members):
        self.rate_limit: float | None = None  # calls a second before it answers 429 (None: no limit)
        self.limited: list[tuple[float, float]] = []  # (when, Retry-After) of every 429 the limit answered
        self.window = (0, 0)  # (second, calls in it) for the limit
        self.ids = Counter()
        self.places: dict[int, dict] = {}
        self.groups: dict[int, dict] = {}
        self.locks: dict[int, dict] = {}
        self.users: dict[int, dict] = {}
        self.users_by_email: dict[str, dict] = {}
        self.assignments: dict[int, dict] = {}
        self.by_group: dict[int, dict[int, dict]] = {}
        self.by_user: dict[int, dict[int, dict]] = {}
        self.events: list[dict] = []
        self.unlocks: list[dict] = []  # every unlock asked for, with its context
        uxbridge = self.place_add("Uxbridge", latitude=51.5461, longitude=-0.4785)
        spa = self.place_add("Spa Road", latitude=51.4960, longitude=-0.0747)
        self.group_add("Members")
        self.group_add("Uxbridge staff", place_id=uxbridge["id"])
        self.lock_add("Uxbridge main entrance", place_id=uxbridge["id"])
        self.lock_add("Uxbridge studio", place_id=uxbridge["id"], online=False)
        self.lock_add("Spa Road front door", place_id=spa["id"])
        for n in range(members):
            self.user_add(f"member{n:05d}@example.com", f"Member {n}")

    def _id(self, kind: str, start: int) -> int:
        self.ids[kind] += 1
        return start + self.ids[kind]

    # state helpers (tests, demo, benchmarks) ------------------------------------
    def place_add(self, name: str, **fields) -> dict:
        place = {"id": self._id("place", 76), "name": name, "address": fields.pop("address", ""),
                 "latitude": None, "longitude": None, "time_zone": "Europe/London",
                 "organization_id": ORGANIZATION_ID, "locks_count": 0, **fields}
        self.places[place["id"]] = place
        return place

    def group_add(self, name: str, *, place_id: int | None = None, **fields) -> dict:
        group = {"id": self._id("group", 500), "name": name, "description": fields.pop("description", ""),
                 "place_id": place_id, "users_count": 0, "locks_count": 0,
                 "geofence_restriction_enabled": False, "time_restriction_enabled": False, **fields}
        self.groups[group["id"]] = group
        self.by_group[group["id"]] = {}
        return group

    def lock_add(self, name: str, *, place_id: int, online: bool = True, **fields) -> dict:
        place = self.places[place_id]
        lock = {"id": self._id("lock", 1233), "name": name, "place_id": place_id, "online": online,
                "latitude": place.get("latitude"), "longitude": place.get("longitude"),
                "geofence_restriction_enabled": False, "geofence_restriction_radius": 300, **fields}
        self.locks[lock["id"]] = lock
        place["locks_count"] += 1
        return lock

    def user_add(self, email: str, name: str = "", *, confirmed: bool = True) -> dict:
        user = {"id": self._id("user", 10000), "email": email, "name": name, "confirmed": confirmed}
        self.users[user["id"]] = user
        self.users_by_email[email.lower()] = user
        self.by_user[user["id"]] = {}
        return user

    def user_by_email(self, email: str) -> dict | None:
        return self.users_by_email.get(email.lower())

    def assignment_add(self, *, user_id: int, group_id: int, valid_from: str | None = None,
                       valid_until: str | None = None, role_id: str = "group_basic") -> dict:
        assignment = {"id": self._id("assignment", 700000), "role_id": role_id, "type": "group",
                      "group_id": group_id, "user_id": user_id, "valid_from": valid_from,
                      "valid_until": valid_until}
        self.assignments[assignment["id"]] = assignment
        self.by_group[group_id][assignment["id"]] = assignment
        self.by_user[user_id][assignment["id"]] = assignment
        self.groups[group_id]["users_count"] = len(self.by_group[group_id])
        return assignment

    def assignment_remove(self, assignment_id: int) -> None:
        assignment = self.assignments.pop(assignment_id)
        self.by_group[assignment["group_id"]].pop(assignment_id, None)
        self.by_user[assignment["user_id"]].pop(assignment_id, None)
        self.groups[assignment["group_id"]]["users_count"] = len(self.by_group[assignment["group_id"]])

    def group_members(self, group_id: int) -> dict[str, dict]:
        """The group's role assignments by the holder's email (what a test looks at)."""
        return {self.users[a["user_id"]]["email"]: a for a in self.by_group[group_id].values()}

    def unlock_event(self, *, user_id: int | None, lock_id: int, success: bool = True,
                     at: str | None = None) -> dict:
        """Record an unlock event (as Kisi logs it) and return it, ready to post as a webhook."""
        lock = self.locks.get(lock_id, {"name": "Unknown lock", "place_id": None})
        user = self.users.get(user_id) if user_id is not None else None
        event = {"uuid": str(uuid.UUID(int=self.rng.getrandbits(128))), "type": "lock.unlock",
                 "actor_type": "User" if user_id is not None else None, "actor_id": user_id,
                 "actor_name": user["name"] if user else None, "object_type": "Lock", "object_id": lock_id,
                 "object_name": lock["name"], "organization_id": ORGANIZATION_ID,
                 "place_id": lock["place_id"], "success": success,
                 "error_code": None if success else "access_denied",
                 "error_message": None if success else "Access denied", "created_at": at or _now_iso()}
        self.events.append(event)
        return event

    def webhook(self, secret: str, event: dict) -> tuple[bytes, dict[str, str]]:
        return webhook_sign(secret, event)

    # what it was asked --------------------------------------------------------
    def writes(self) -> Counter:
        """The calls that change Kisi's state."""
        return Counter({k: n for k, n in self.call_counts().items()
                        if k.split(" ", 1)[0] in WRITE_METHODS and k not in NOT_WRITES})

    # dispatch -------------------------------------------------------------------
    def handle(self, request, *, timeout=None):
        if not request.path.startswith(CONTROL_PREFIX) and (refused := self._over_the_limit(request)):
            return refused
        return super().handle(request, timeout=timeout)

    def _over_the_limit(self, request) -> SandboxResponse | None:
        """429 with Retry-After, when this call is over `rate_limit` in the current second."""
        if self.rate_limit is None:
            return None
        with self.lock:
            now = self.clock()
            second, count = self.window
            second, count = (second, count + 1) if math.floor(now) == second else (math.floor(now), 1)
            self.window = (second, count)
            if count <= self.rate_limit:
                return None
            wait = 1  # whole seconds, and the next second starts within one
            self.calls.append(request)
            self.limited.append((now, wait))
        response = self.error(429, "Rate limit exceeded")
        response.headers["Retry-After"] = str(wait)
        return response

    def _control(self, request) -> SandboxResponse:
        """Sandbox-only routes for a benchmark that serves this fake from another process."""
        if request.method == "GET" and request.path == "_sandbox/calls":
            return SandboxResponse(200, {"calls": dict(self.call_counts()), "writes": dict(self.writes())})
        if request.method == "POST" and request.path == "_sandbox/unlocks":
            data = request.json() or {}
            event = self.unlock_event(user_id=data.get("user_id"), lock_id=data["lock_id"],
                                      success=data.get("success", True))
            return SandboxResponse(200, event)
        if request.method == "POST" and request.path == "_sandbox/rate_limit":
            self.rate_limit = (request.json() or {}).get("per_second")
            return SandboxResponse(204, b"")
        if request.method == "GET" and request.path == "_sandbox/state":
            return SandboxResponse(200, {"users": len(self.users), "role_assignments": len(self.assignments),
                                         "events": len(self.events), "limited": len(self.limited),
                                         "cpu_seconds": time.process_time()})
        return super()._control(request)

    def authenticate(self, request):
        if request.header("Authorization") != f"KISI-LOGIN {API_KEY}":
            return self.error(401, "Invalid API key")
        return None

    def error(self, status, message):
        return SandboxResponse(status, {"code": CODES.get(status, str(status)), "error": message})

    def _list(self, request, items: list[dict]) -> SandboxResponse:
        limit = max(1, min(int(request.query.get("limit") or 10), 100))
        offset = max(0, int(request.query.get("offset") or 0))
        page = [dict(item) for item in items[offset:offset + limit]]
        if page and self.take_malformed():
            page[0]["id"] = None
        shown = f"{offset}-{offset + len(page) - 1}/{len(items)}" if page else f"*/{len(items)}"
        return SandboxResponse(200, page, headers={"X-Collection-Range": shown})

    # routes ----------------------------------------------------------------------
    @route("GET", r"places")
    def places_list(self, request):
        return self._list(request, list(self.places.values()))

    @route("GET", r"groups")
    def groups_list(self, request):
        groups = list(self.groups.values())
        if ids := request.query.get("ids"):
            wanted = {int(i) for i in ids.split(",") if i.strip().isdigit()}
            groups = [g for g in groups if g["id"] in wanted]
        if place_id := request.query.get("place_id"):
            groups = [g for g in groups if str(g["place_id"]) == place_id]
        if query := request.query.get("query", "").lower():
            groups = [g for g in groups if query in g["name"].lower()]
        if scope := request.query.get("scope"):
            groups = [g for g in groups if (g["place_id"] is None) == (scope == "organization")]
        return self._list(request, groups)

    @route("GET", r"locks")
    def locks_list(self, request):
        locks = list(self.locks.values())
        if place_id := request.query.get("place_id"):
            locks = [lock for lock in locks if str(lock["place_id"]) == place_id]
        return self._list(request, locks)

    @route("POST", r"locks/(\d+)/unlock")
    def lock_unlock(self, request):
        lock = self.locks.get(int(request.match.group(1)))
        if lock is None:
            return self.error(404, "Lock not found")
        if not lock["online"]:
            return self.error(422, "The lock is offline")
        self.unlocks.append({"lock_id": lock["id"], "context": (request.json() or {}).get("context")})
        return SandboxResponse(200, {"message": "Unlocked!"})

    @route("GET", r"users")
    def users_list(self, request):
        users = list(self.users.values())
        if query := request.query.get("query", "").strip().lower():
            # Kisi's query is fuzzy: any user whose email or name contains it.
            users = [u for u in users if query in u["email"].lower() or query in (u["name"] or "").lower()]
        return self._list(request, users)

    @route("POST", r"users")
    def user_create(self, request):
        data = (request.json() or {}).get("user") or {}
        email = str(data.get("email") or "").strip()
        if "@" not in email:
            return self.error(422, "Email is invalid")
        if self.user_by_email(email):
            return self.error(422, "Email has already been taken")
        user = self.user_add(email, data.get("name") or "", confirmed=bool(data.get("confirm")))
        user["send_emails"] = bool(data.get("send_emails", True))
        return SandboxResponse(200, {k: user[k] for k in ("id", "email", "name", "confirmed")})

    @route("GET", r"role_assignments")
    def assignments_list(self, request):
        if user_id := request.query.get("user_id"):
            items = list(self.by_user.get(int(user_id), {}).values())
        elif group_id := request.query.get("group_id"):
            items = list(self.by_group.get(int(group_id), {}).values())
        else:
            return self.error(422, "user_id or group_id is required")
        if request.query.get("scope") not in (None, "", "group"):
            items = []
        return self._list(request, items)

    @route("POST", r"role_assignments")
    def assignment_create(self, request):
        data = (request.json() or {}).get("role_assignment") or {}
        user_id, group_id = data.get("user_id"), data.get("group_id")
        if int(user_id or 0) not in self.users:
            return self.error(404, "User not found")
        if int(group_id or 0) not in self.groups:
            return self.error(404, "Group not found")
        if any(a["group_id"] == int(group_id) for a in self.by_user[int(user_id)].values()):
            return self.error(422, "User has already been taken")  # one role per group [C]
        assignment = self.assignment_add(
            user_id=int(user_id), group_id=int(group_id), valid_from=data.get("valid_from"),
            valid_until=data.get("valid_until"), role_id=data.get("role_id") or "group_basic")
        return SandboxResponse(200, assignment)

    @route("DELETE", r"role_assignments/(\d+)")
    def assignment_delete(self, request):
        assignment_id = int(request.match.group(1))
        if assignment_id not in self.assignments:
            return self.error(404, "Role assignment not found")
        self.assignment_remove(assignment_id)
        return SandboxResponse(204, b"")

    @route("POST", r"event_sets")
    def event_sets(self, request):
        query = (request.json() or {}).get("event_set") or {}
        interval = query.get("interval") or {}
        start, end = interval.get("start") or "", interval.get("end") or "9999"
        events = sorted((e for e in self.events if e["type"] == query.get("event_type", e["type"])
                         and start <= e["created_at"] < end), key=lambda e: e["created_at"])
        offset = int(query.get("cursor") or 0)
        limit = max(1, min(int(query.get("limit") or 100), 100))
        page = events[offset:offset + limit]
        more = offset + limit < len(events)
        return SandboxResponse(200, {"events": page, "next_cursor": str(offset + limit) if more else None})
