"""Momence's fake: OAuth tokens that expire on a clock tests control, members with tags,
the membership catalogue, bought memberships, sessions with bookings, appointments,
tag assignment and check-ins, in the host API v2 wire format.
"""

import base64
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

from integrations.sandbox import Sandbox, SandboxResponse, route

CLIENT_ID = "momence-client-7301"
CLIENT_SECRET = "momence-secret-5f9c2e81"  # noqa: S105 - the fake's own credentials
USERNAME = "frontdesk@studio.test"
PASSWORD = "staff-Pass-4417x"  # noqa: S105

TAGS = {1: "members", 2: "door-access", 3: "vip", 4: "staff"}
CATALOGUE = [
    {"id": 11, "name": "Unlimited monthly", "type": "subscription"},
    {"id": 12, "name": "8 visits a month", "type": "subscription", "combinedUsageLimitEnabled": True,
     "combinedUsageLimit": 8},
    {"id": 13, "name": "4 classes + 2 appointments", "type": "subscription", "usageLimitForSessions": 4,
     "usageLimitForAppointments": 2},
    {"id": 14, "name": "10 class pack", "type": "package-events", "eventCredits": 10},
    {"id": 15, "name": "On-demand videos", "type": "on-demand-subscription"},
    {"id": 16, "name": "Gift card 100", "type": "package-money"},
    {"id": 17, "name": "Patron", "type": "patron"},
]
CLASSES = [(7, "Morning Yoga"), (12, "Lunch HIIT"), (18, "Evening Spin")]
SERVICES = {21: "Personal Training", 22: "Physio"}


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z") if moment else None


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


class MomenceSandbox(Sandbox):
    kind = "momence"
    keep_alive = True  # an HTTPS API keeps connections open: one per calling thread, not one per call
    access_ttl = timedelta(hours=3)
    refresh_ttl = timedelta(days=14)
    max_page_size = 100

    def setup(self, *, members):
        self.offset = timedelta(0)
        self.access_tokens: dict[str, datetime] = {}
        self.refresh_tokens: dict[str, datetime] = {}
        self.grants: list[str] = []  # grant types issued, in order
        self.token_count = 0
        self.tags = dict(TAGS)
        self.memberships = {m["id"]: {**m, "tags": []} for m in CATALOGUE}
        self.members: dict[int, dict] = {}
        self.member_order: list[dict] | None = None
        self.bought: dict[int, list[dict]] = {}
        self.sessions: dict[int, dict] = {}
        self.bookings: dict[int, dict] = {}
        self.appointments: dict[int, dict] = {}
        self.checkins: list[int] = []
        self.next_id = 100000
        now = self.now()
        for n in range(members):
            member_id = 1000 + n
            tags = [t for t in (1, 3) if self.rng.random() < (0.7 if t == 1 else 0.1)]
            self.member_put(member_id, firstName=f"First{n}", lastName=f"Last{n}",
                            email=f"member{n}@studio.test", phoneNumber=f"+4477009{n:05d}",
                            tags=tags, lastSeen=now - timedelta(minutes=self.rng.randrange(1, 60 * 24 * 60)))
            if self.rng.random() < 0.6:
                membership = self.rng.choice([11, 12, 13, 14])
                self.bought_add(member_id, membership,
                                eventCreditsLeft=self.rng.randrange(0, 11) if membership == 14 else None)
        if members:
            self._timetable(now.replace(hour=0, minute=0, second=0, microsecond=0))

    def _timetable(self, day: datetime) -> None:
        """A week of classes with bookings, and two appointments a day."""
        member_ids = list(self.members)
        for offset in range(7):
            for hour, name in CLASSES:
                session = self.session_add(name=name, start=day + timedelta(days=offset, hours=hour))
                for member_id in self.rng.sample(member_ids, min(8, len(member_ids))):
                    self.booking_add(session["id"], member_id)
            for service_id in SERVICES:
                self.appointment_add(self.rng.choice(member_ids), service_id=service_id,
                                     start=day + timedelta(days=offset, hours=10 + service_id - 21))

    # state helpers tests use ---------------------------------------------------
    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **delta) -> None:
        """Move the vendor's clock, e.g. advance(hours=4): tokens expire on it."""
        self.offset += timedelta(**delta)

    def expire_access_tokens(self) -> None:
        self.access_tokens = {token: self.now() - timedelta(seconds=1) for token in self.access_tokens}

    def _id(self) -> int:
        self.next_id += 1
        return self.next_id

    def member_put(self, member_id: int, *, tags: list[int] | None = None, lastSeen: datetime | None = None,
                   **fields) -> dict:
        self.member_order = None  # lastSeen may move: sort again on the next list
        member = self.members.setdefault(member_id, {"id": member_id, "customerTags": [],
                                                     "firstSeen": _iso(self.now()), "lastSeen": None})
        member.update(fields)
        if tags is not None:
            member["customerTags"] = [{"id": t, "name": self.tags[t]} for t in tags]
        if lastSeen is not None:
            member["lastSeen"] = _iso(lastSeen)
        return member

    def member_delete(self, member_id: int) -> None:
        self.members.pop(member_id, None)
        self.member_order = None

    def member_tag_ids(self, member_id: int) -> set[int]:
        return {t["id"] for t in self.members[member_id]["customerTags"]}

    def membership_tags_set(self, membership_id: int, tags: list[int]) -> dict:
        """Tag a catalogue membership as a manager does in Momence (Memberships > Edit > Add tag)."""
        membership = self.memberships[membership_id]
        membership["tags"] = [{"id": t, "name": self.tags[t]} for t in tags]
        return membership

    def bought_add(self, member_id: int, membership_id: int, **fields) -> dict:
        membership = self.memberships[membership_id]
        bought = {
            "id": self._id(), "membership": {k: membership[k] for k in ("id", "name", "type")},
            "startDate": _iso(self.now() - timedelta(days=30)),
            "endDate": _iso(self.now() + timedelta(days=60)),
            "isFrozen": False, "eventCreditsLeft": membership.get("eventCredits"),
            "usageLimitForSessions": membership.get("usageLimitForSessions"),
            "usageLimitForAppointments": membership.get("usageLimitForAppointments"),
            "combinedUsageLimit": membership.get("combinedUsageLimit"), "usedSessions": 0,
        }
        bought.update(fields)
        self.bought.setdefault(member_id, []).append(bought)
        return bought

    def session_add(self, *, name: str, start: datetime, minutes: int = 60) -> dict:
        session = {"id": self._id(), "name": name, "startsAt": _iso(start),
                   "endsAt": _iso(start + timedelta(minutes=minutes)), "type": "class"}
        self.sessions[session["id"]] = session
        return session

    def _member_brief(self, member_id: int) -> dict:
        member = self.members[member_id]
        return {k: member.get(k) for k in ("id", "firstName", "lastName", "email")}

    def booking_add(self, session_id: int, member_id: int, **fields) -> dict:
        booking = {"id": self._id(), "sessionId": session_id, "member": self._member_brief(member_id),
                   "checkedIn": False, "cancelledAt": None, **fields}
        self.bookings[booking["id"]] = booking
        return booking

    def appointment_add(self, member_id: int, *, service_id: int, start: datetime, minutes: int = 60,
                        **fields) -> dict:
        appointment = {"id": self._id(), "member": self._member_brief(member_id),
                       "service": {"id": service_id,
                                   "name": SERVICES.get(service_id, f"Service {service_id}")},
                       "startsAt": _iso(start), "endsAt": _iso(start + timedelta(minutes=minutes)),
                       "cancelledAt": None, **fields}
        self.appointments[appointment["id"]] = appointment
        return appointment

    # wire helpers ----------------------------------------------------------------
    def error(self, status, message):
        return SandboxResponse(status, {"statusCode": status, "message": message})

    def _paged(self, request, items: list, *, max_size: int | None = None) -> SandboxResponse:
        try:
            page, size = int(request.query.get("page", 0)), int(request.query.get("pageSize", 20))
        except ValueError:
            return self.error(400, "page and pageSize must be numbers")
        if not 1 <= size <= (max_size or self.max_page_size) or page < 0:
            return self.error(400, "pageSize out of range")
        chunk = [dict(item) for item in items[page * size:(page + 1) * size]]  # copies: faults may edit
        pagination = {"page": page, "pageSize": size, "totalCount": len(items)}
        return SandboxResponse(200, {"payload": chunk, "pagination": pagination})

    def _window(self, request, items, start_key: str) -> list:
        after, before = _time(request.query.get("startAfter")), _time(request.query.get("startBefore"))
        return [i for i in items if (after is None or _time(i[start_key]) >= after)
                and (before is None or _time(i[start_key]) < before)]

    # auth --------------------------------------------------------------------------
    def _issue(self, grant: str) -> SandboxResponse:
        self.token_count += 1
        access = f"mat-{self.token_count}-{self.rng.getrandbits(48):x}"
        refresh = f"mrt-{self.token_count}-{self.rng.getrandbits(48):x}"
        now = self.now()
        self.access_tokens[access] = now + self.access_ttl
        self.refresh_tokens[refresh] = now + self.refresh_ttl
        self.grants.append(grant)
        return SandboxResponse(200, {
            "access_token": access, "refresh_token": refresh, "token_type": "Bearer",
            "accessTokenExpiresAt": _iso(now + self.access_ttl),
            "refreshTokenExpiresAt": _iso(now + self.refresh_ttl),
        })

    @route("POST", r"auth/token")
    def token(self, request):
        form = {k: v[-1] for k, v in parse_qs(request.body.decode()).items()}
        client = (form.get("client_id"), form.get("client_secret"))
        basic = request.header("Authorization")
        if basic.startswith("Basic "):
            client = tuple(base64.b64decode(basic[6:]).decode().split(":", 1))
        if client != (CLIENT_ID, CLIENT_SECRET):
            return SandboxResponse(401, {"error": "invalid_client"})
        grant = form.get("grant_type")
        if grant == "password":
            if (form.get("username"), form.get("password")) != (USERNAME, PASSWORD):
                return SandboxResponse(400, {"error": "invalid_grant",
                                             "error_description": "Invalid credentials"})
            return self._issue(grant)
        if grant == "refresh_token":
            expires = self.refresh_tokens.pop(form.get("refresh_token", ""), None)  # one use each
            if expires is None or expires <= self.now():
                return SandboxResponse(400, {"error": "invalid_grant",
                                             "error_description": "Invalid refresh token"})
            return self._issue(grant)
        return SandboxResponse(400, {"error": "unsupported_grant_type"})

    def authenticate(self, request):
        if request.path == "auth/token":
            return None
        header = request.header("Authorization")
        expires = self.access_tokens.get(header[7:]) if header.startswith("Bearer ") else None
        if expires is None or expires <= self.now():
            return self.error(401, "Invalid or expired access token")
        return None

    # reads ---------------------------------------------------------------------------
    @route("GET", r"host/members")
    def members_list(self, request):
        if self.member_order is None:  # lastSeenAt ascending, never-seen members first
            self.member_order = sorted(self.members.values(),
                                       key=lambda m: (m["lastSeen"] is not None, m["lastSeen"] or "", m["id"]))
        response = self._paged(request, self.member_order)
        if response.status == 200 and response.body["payload"] and self.take_malformed():
            response.body["payload"][0].update(firstName=None, lastName=None)
        return response

    @route("GET", r"host/tags")
    def tags_list(self, request):
        return self._paged(request, [{"id": k, "name": v} for k, v in sorted(self.tags.items())])

    @route("GET", r"host/memberships")
    def memberships_list(self, request):
        return self._paged(request, list(self.memberships.values()))

    @route("GET", r"host/members/(\d+)/bought-memberships/active")
    def bought_list(self, request):
        member_id = int(request.match[1])
        if member_id not in self.members:
            return self.error(404, "Member not found")
        response = self._paged(request, self.bought.get(member_id, []))
        if response.status == 200 and response.body["payload"] and self.take_malformed():
            response.body["payload"][0]["eventCreditsLeft"] = "lots"
        return response

    @route("GET", r"host/sessions")
    def sessions_list(self, request):
        rows = sorted(self._window(request, self.sessions.values(), "startsAt"),
                      key=lambda s: (s["startsAt"], s["id"]))
        return self._paged(request, rows)

    @route("GET", r"host/sessions/(\d+)/bookings")
    def session_bookings(self, request):
        session_id = int(request.match[1])
        if session_id not in self.sessions:
            return self.error(404, "Session not found")
        cancelled = request.query.get("includeCancelled") == "true"
        rows = [{k: v for k, v in b.items() if k != "sessionId"} for b in self.bookings.values()
                if b["sessionId"] == session_id and (cancelled or not b["cancelledAt"])]
        return self._paged(request, rows)

    @route("GET", r"host/appointments/reservations")
    def appointments_list(self, request):
        cancelled = request.query.get("includeCancelled") == "true"
        rows = [a for a in self._window(request, self.appointments.values(), "startsAt")
                if cancelled or not a["cancelledAt"]]
        return self._paged(request, sorted(rows, key=lambda a: (a["startsAt"], a["id"])), max_size=200)

    # writes ----------------------------------------------------------------------------
    @route("POST", r"host/members/(\d+)/tags/(\d+)")
    def member_tag_assign(self, request):
        member_id, tag_id = int(request.match[1]), int(request.match[2])
        if member_id not in self.members or tag_id not in self.tags:
            return self.error(404, "Member or tag not found")
        self.member_put(member_id, tags=sorted(self.member_tag_ids(member_id) | {tag_id}))
        return SandboxResponse(200, {"success": True})

    @route("DELETE", r"host/members/(\d+)/tags/(\d+)")
    def member_tag_unassign(self, request):
        member_id, tag_id = int(request.match[1]), int(request.match[2])
        if member_id not in self.members or tag_id not in self.member_tag_ids(member_id):
            return self.error(404, "Tag not assigned to member")
        self.member_put(member_id, tags=sorted(self.member_tag_ids(member_id) - {tag_id}))
        return SandboxResponse(200, {"success": True})

    @route("POST", r"host/session-bookings/(\d+)/check-in")
    def booking_check_in(self, request):
        booking = self.bookings.get(int(request.match[1]))
        if booking is None:
            return self.error(404, "Booking not found")
        booking["checkedIn"] = True
        self.checkins.append(booking["id"])
        return SandboxResponse(200, {"success": True})
