"""The Perfect Gym fake: the OData subset of the vendor file, member credentials, faults.

Seeded with `members` members across four clubs (plus a hidden head office no Location
knows), about 1.2 contracts per member, add-on products for one in ten and a recent
visit for one in five. Members whose id is not a multiple of 10 have the password
PASSWORD; the others have none. Change it over time with `put` / `member_put` /
`member_delete` / `contract_end` / `visit_add` / `churn`; every write raises the one
global `version`. `webhook_send` posts an (unsigned) webhook as Perfect Gym does.
"""

import json
from array import array
from datetime import UTC, datetime, timedelta

import requests

from integrations.perfectgym.sandbox_odata import EntitySet, QueryError, run_query
from integrations.sandbox import Sandbox, SandboxResponse, route

CLIENT_ID = "gatehouse-api"
CLIENT_SECRET = "pg-secret-5be1c7d2"  # noqa: S105 - the fake's published test key
PASSWORD = "Perfect-pass-1"  # noqa: S105 - the seeded members' published test password
SETS = ["Clubs", "PaymentPlans", "Products", "Members", "Contracts", "MemberProducts", "MemberClubVisits"]
CLUBS = [(1, "Uxbridge", "Europe/London"), (2, "Spa Road", "Europe/London"),
         (3, "Manchester Central", "Europe/London"), (4, "Dublin Docklands", "Europe/Dublin"),
         (9, "Head office", "Europe/London")]
PLANS = [(24, "Monthly membership", 1, False), (25, "Annual membership", 12, False),
         (31, "Student membership", 1, False), (40, "Pool add-on", 1, True)]
PRODUCTS = [(26, "Towel service", "Service"), (27, "Protein shake", "Good"), (28, "PT bundle", "Bundle")]
FIRST = ["Alex", "Sam", "Jo", "Chris", "Priya", "Amir", "Mia", "Noah", "Zoe", "Liam", "Ava", "Ravi"]
LAST = ["Smith", "Jones", "Patel", "Murphy", "Khan", "Brown", "Wilson", "Taylor", "Evans", "Walsh"]
SEED_CLUBS = [1, 1, 1, 2, 2, 3, 3, 4, 4, 9]  # member n's home club: SEED_CLUBS[n % 10]
SEED_PLANS = [24, 24, 24, 24, 25, 25, 31]  # drawn from for seeded contracts
SEED_STATUSES = ["Current", "NotStarted", "Ended", "Freezed"]
NOT_STARTED = 1000  # a seeded contract's start at or above this is a day ahead
VISITING = (1, 5, 7, 14)  # members whose number mod 20 is one of these have a seeded visit
CORRUPT = {"Members": {"firstName": None}, "Contracts": {"status": "Bogus"},
           "MemberProducts": {"purchaseDate": "not a date"}, "MemberClubVisits": {"enterDate": "soon"}}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class PerfectGymSandbox(Sandbox):
    kind = "perfectgym"
    keep_alive = True  # the API keeps connections open: a sync's calls share one

    def __init__(self, *, members: int = 100, seed: int = 1, base_url: str = ""):
        self.base_url = base_url  # for nextLinks when no Host header says where we are
        super().__init__(members=members, seed=seed)

    # state --------------------------------------------------------------------------
    def setup(self, *, members):
        self.version = 1000
        self.sets = {name: EntitySet(name) for name in SETS}
        self.passwords: dict[int, str | None] = {}  # overrides of the seeded rule
        self.now = datetime.now(UTC).replace(microsecond=0)
        for club_id, name, zone in CLUBS:
            self.put("Clubs", club_id, name=name, shortName=name[:3].upper(), timezoneId=zone,
                     latitude=51.5, longitude=-0.12, isHidden=club_id == 9)
        for plan_id, name, months, additional in PLANS:
            self.put("PaymentPlans", plan_id, name=name, isActive=True, isAdditional=additional,
                     membershipTypeId=1, paymentInterval={"days": 0, "months": months})
        for product_id, name, product_type in PRODUCTS:
            self.put("Products", product_id, name=name, productType=product_type)
        self._seed(members)

    def _next_version(self) -> int:
        self.version += self.rng.randint(1, 3)  # global and rising, not by exactly 1
        return self.version

    def put(self, entity_set: str, row_id: int | None = None, **fields) -> dict:
        """Create or change a row (a new version); returns it."""
        rows = self.sets[entity_set].rows
        if row_id is None:
            row_id = rows.last_id() + 1
        row = {**rows.get(row_id, {"id": row_id, "isDeleted": False}), **fields,
               "version": self._next_version()}
        self.sets[entity_set].store(row)
        return row

    def delete(self, entity_set: str, row_id: int) -> dict:
        """Soft delete, as Perfect Gym does: the row stays with isDeleted true."""
        return self.put(entity_set, row_id, isDeleted=True)

    def member_put(self, member_id: int | None = None, **fields) -> dict:
        if member_id is None or member_id not in self.sets["Members"].rows:
            member_id = member_id or self.sets["Members"].rows.last_id() + 1
            fields = {"number": str(100000 + member_id), "firstName": "New", "secondName": "",
                      "lastName": f"Member{member_id}", "email": f"member{member_id}@pg.example",
                      "homeClubId": 1, "isActive": True, "memberType": "Member", "createdDate": iso(self.now),
                      "birthdate": None, "sex": "Female", "phoneNumber": "", **fields}
        return self.put("Members", member_id, **fields)

    def member_delete(self, member_id: int) -> dict:
        return self.delete("Members", member_id)

    def contract_put(self, contract_id: int | None = None, **fields) -> dict:
        if contract_id is None or contract_id not in self.sets["Contracts"].rows:
            fields = {"clubId": 1, "paymentPlanId": 24, "status": "Current", "isActive": True,
                      "isAdditionalContract": False, "signUpDate": iso(self.now), "startDate": iso(self.now),
                      "endDate": None, "cancelDate": None, **fields}
        return self.put("Contracts", contract_id, **fields)

    def contract_end(self, contract_id: int, end: datetime | None = None) -> dict:
        return self.put("Contracts", contract_id, status="Ended", isActive=False,
                        endDate=iso(end or self.now))

    def member_product_put(self, member_product_id: int | None = None, **fields) -> dict:
        if member_product_id is None or member_product_id not in self.sets["MemberProducts"].rows:
            fields = {"clubId": 1, "productId": 26, "initialQuantity": 1, "currentQuantity": 1,
                      "purchaseDate": iso(self.now), "expiryDate": None, **fields}
        return self.put("MemberProducts", member_product_id, **fields)

    def visit_add(self, *, member_id: int, club_id: int, enter: datetime | None = None,
                  leave: datetime | None = None) -> dict:
        return self.put("MemberClubVisits", memberId=member_id, clubId=club_id,
                        enterDate=iso(enter or self.now), leaveDate=iso(leave) if leave else None,
                        readerName="Main entrance")

    def member_password_set(self, member_id: int, password: str | None) -> None:
        self.passwords[member_id] = password

    def password_of(self, member_id: int) -> str | None:
        return self.passwords.get(member_id, PASSWORD if member_id % 10 else None)

    def churn(self, changes: int = 10) -> int:
        """Change the club over time: renamed, deleted and new members, ended contracts, visits."""
        members = list(self.sets["Members"].rows)
        for _ in range(changes):
            roll, member_id = self.rng.random(), self.rng.choice(members)
            if roll < 0.4:
                self.member_put(member_id, phoneNumber=f"07{self.rng.randrange(10**9):09d}")
            elif roll < 0.5:
                self.member_delete(member_id)
            elif roll < 0.7:
                new = self.member_put(homeClubId=self.rng.choice([1, 2, 3, 4]))
                self.contract_put(memberId=new["id"], clubId=new["homeClubId"])
            elif roll < 0.8:
                self.contract_end(self.rng.choice(list(self.sets["Contracts"].rows)))
            else:
                home = self.sets["Members"].rows[member_id]["homeClubId"]
                self.visit_add(member_id=member_id, club_id=home)
        return changes

    # webhooks -----------------------------------------------------------------------
    def webhook(self, event_type: str, **fields) -> tuple[bytes, dict]:
        """A webhook delivery (body, headers): unsigned, the event's name and what else it
        says (e.g. memberId); the body's shape is inferred (integrations.perfectgym.webhooks)."""
        body = json.dumps({"eventType": event_type, "occurredAt": iso(datetime.now(UTC)), **fields}).encode()
        return body, {"Content-Type": "application/json"}

    def webhook_send(self, url: str, event_type: str, **fields) -> requests.Response:
        """Post a webhook to `url` (the integration's address, token and all); 5 s timeout."""
        body, headers = self.webhook(event_type, **fields)
        return requests.post(url, data=body, headers=headers, timeout=5)

    # seeding ------------------------------------------------------------------------
    # The seeded rows are built when read (sandbox_odata.Rows) from the few numbers kept
    # here per row, drawn in one pass from the seed: a million members start in seconds.
    def _seed(self, count: int) -> None:
        rng, now = self.rng, self.now
        self.days = [iso(now - timedelta(days=d)) for d in range(800)]
        self.ahead = [iso(now + timedelta(days=d)) for d in range(1, 60)]
        self.births = [(now - timedelta(days=6500 + d * 3)).date().isoformat() for d in range(6000)]
        members, contracts, products, visits = (self.sets[n] for n in SETS[3:])
        self.seeded = {
            "Members": {"birth": array("H"), "created": array("H")},
            # start: a day index (NOT_STARTED + n: a day ahead); end: a day index, -1 open-ended
            "Contracts": {"member": array("l"), "plan": array("B"), "status": array("B"),
                          "start": array("H"), "end": array("h")},
            "MemberProducts": {"quantity": array("B"), "purchase": array("H")},
            "MemberClubVisits": {"minutes": array("l")},
        }
        for name, build in (("Members", self._member), ("Contracts", self._contract),
                            ("MemberProducts", self._member_product), ("MemberClubVisits", self._visit)):
            self.sets[name].rows.build = build
        m, c, p, v = (self.seeded[n] for n in SETS[3:])
        for n in range(1, count + 1):
            m["birth"].append(rng.randrange(6000))
            m["created"].append(rng.randrange(800))
            members.seed(self._bump())
            roll = rng.random()
            status, start = ((1, NOT_STARTED + rng.randrange(59)) if roll < 0.02 else
                             (3, rng.randrange(400)) if roll < 0.04 else
                             (2, rng.randrange(400, 800)) if roll < 0.09 else
                             (0, rng.randrange(400)))
            self._contract_seed(c, n, SEED_PLANS.index(rng.choice(SEED_PLANS)), status, start,
                                rng.randrange(0, 400) if status == 2 else -1)
            if roll > 0.8:  # one in five also has an older, ended contract
                self._contract_seed(c, n, SEED_PLANS.index(rng.choice(SEED_PLANS)), 2,
                                    rng.randrange(600, 800), rng.randrange(400, 600))
            if n % 10 == 3:
                p["quantity"].append(rng.randrange(11))
                p["purchase"].append(rng.randrange(100, 200))
                products.seed(self._bump())
            if n % 20 in VISITING:  # one in five, at clubs 1-4
                v["minutes"].append(rng.randrange(3 * 24 * 60))
                visits.seed(self._bump())

    def _bump(self) -> int:
        self.version += 2
        return self.version

    def _contract_seed(self, columns, member_id, plan, status, start, end) -> None:
        for name, value in (("member", member_id), ("plan", plan), ("status", status), ("start", start),
                            ("end", end)):
            columns[name].append(value)
        self.sets["Contracts"].seed(self._bump())

    def _member(self, n: int) -> dict:
        columns = self.seeded["Members"]
        return {"id": n, "number": str(100000 + n), "firstName": FIRST[n % 12], "secondName": "",
                "lastName": LAST[(n // 12) % 10], "email": f"member{n}@pg.example", "phoneNumber": f"07700{n:06d}",
                "birthdate": self.births[columns["birth"][n - 1]], "sex": "Male" if n % 2 else "Female",
                "homeClubId": SEED_CLUBS[n % 10], "isActive": n % 17 != 0, "memberType": "Member",
                "createdDate": self.days[columns["created"][n - 1]], "isDeleted": False,
                "version": self.sets["Members"].seeded_versions[n - 1]}

    def _contract(self, contract_id: int) -> dict:
        columns, i = self.seeded["Contracts"], contract_id - 1
        member_id, code, start, end = columns["member"][i], columns["status"][i], columns["start"][i], columns["end"][i]
        status = SEED_STATUSES[code]
        start = self.ahead[start - NOT_STARTED] if start >= NOT_STARTED else self.days[start]
        return {"id": contract_id, "memberId": member_id, "clubId": SEED_CLUBS[member_id % 10],
                "paymentPlanId": SEED_PLANS[columns["plan"][i]], "status": status,
                "isActive": status in ("Current", "Freezed"), "isAdditionalContract": False,
                "signUpDate": start, "startDate": start, "endDate": self.days[end] if end >= 0 else None,
                "cancelDate": None, "isDeleted": False, "version": self.sets["Contracts"].seeded_versions[i]}

    def _member_product(self, product_id: int) -> dict:
        columns, i = self.seeded["MemberProducts"], product_id - 1
        n = 10 * i + 3  # the members whose number ends in 3
        return {"id": product_id, "productId": 26 + n % 3, "memberId": n, "clubId": SEED_CLUBS[n % 10],
                "initialQuantity": 10, "currentQuantity": columns["quantity"][i],
                "purchaseDate": self.days[columns["purchase"][i]], "expiryDate": self.ahead[-1],
                "isDeleted": False, "version": self.sets["MemberProducts"].seeded_versions[i]}

    def _visit(self, visit_id: int) -> dict:
        i = visit_id - 1
        n = 20 * (i // 4) + VISITING[i % 4]
        enter = self.now - timedelta(minutes=self.seeded["MemberClubVisits"]["minutes"][i])
        return {"id": visit_id, "memberId": n, "clubId": SEED_CLUBS[n % 10], "enterDate": iso(enter),
                "leaveDate": iso(enter + timedelta(hours=1)), "readerName": "Main entrance",
                "isDeleted": False, "version": self.sets["MemberClubVisits"].seeded_versions[i]}

    # the wire -----------------------------------------------------------------------
    def error(self, status: int, message: str) -> SandboxResponse:
        code = {401: "Unauthorized", 404: "NotFound", 429: "TooManyRequests"}.get(status, "Error")
        return SandboxResponse(status, {"errors": [{"code": code, "message": message, "property": None,
                                                    "data": {}, "nestedBusinessErrors": []}]})

    def business_error(self, code: str, message: str) -> SandboxResponse:
        return SandboxResponse(499, {"errors": [{"code": code, "message": message, "property": None,
                                                 "data": {}, "nestedBusinessErrors": []}]})

    def authenticate(self, request):
        if request.header("X-Client-Id") != CLIENT_ID or request.header("X-Client-Secret") != CLIENT_SECRET:
            return self.error(401, "Missing or wrong X-Client-Id / X-Client-Secret")
        return None

    def _base(self, request) -> str:
        host = request.header("Host")
        return f"http://{host}/" if host else self.base_url

    @route("GET", r"odata/(?P<set>[A-Za-z]+)")
    def collection(self, request):
        entity_set = self.sets.get(request.match["set"])
        if entity_set is None:
            return self.error(404, f"No entity set {request.match['set']}")
        try:
            body = run_query(entity_set, request.query, base=self._base(request))
        except QueryError as error:
            return SandboxResponse(400, {"errors": [{"code": "InvalidQuery", "message": str(error)}]})
        if body["value"] and request.match["set"] in CORRUPT and self.take_malformed():
            body["value"][0] = {**body["value"][0], **CORRUPT[request.match["set"]]}
        return SandboxResponse(200, body)

    @route("GET", r"odata/(?P<set>[A-Za-z]+)(?:\((?P<paren>-?\d+)\)|/(?P<slash>-?\d+))")
    def single(self, request):
        name = request.match["set"]
        entity_set = self.sets.get(name)
        key = int(request.match["paren"] or request.match["slash"])
        row = entity_set.rows.get(key) if entity_set else None
        if row is None:
            return self.business_error(f"{name.rstrip('s')}NotFound", f"No such {name.rstrip('s')}")
        return SandboxResponse(200, {"@odata.context": f"{self._base(request)}odata/$metadata#{name}/$entity",
                                     **row})

    @route("POST", r"MemberAuth/VerifyMemberCredentials")
    def verify_member_credentials(self, request):
        return self._verify(request, "email")

    @route("POST", r"MemberAuth/VerifyCredentials")
    def verify_credentials(self, request):
        return self._verify(request, "login")

    def _verify(self, request, field: str) -> SandboxResponse:
        try:
            body = request.json()
            login, password = body[field], body["password"]
        except (ValueError, KeyError, TypeError):
            return self.business_error("ValidationError", f"{field} and password are required")
        if not isinstance(login, str) or not isinstance(password, str):
            return self.business_error("ValidationError", f"{field} and password must be text")
        wanted = login.lower()
        member = next((m for m in self.sets["Members"].rows.values() if not m["isDeleted"] and (
            (m.get("email") or "").lower() == wanted or (field == "login" and m["number"] == login))), None)
        if member is None:
            return SandboxResponse(200, {"memberId": None, "status": "NoAccount"})
        stored = self.password_of(member["id"])
        if stored is None:
            return SandboxResponse(200, {"memberId": member["id"], "status": "NoPassword"})
        if stored != password:
            return SandboxResponse(200, {"memberId": None, "status": "InvalidUsernameOrPassword"})
        return SandboxResponse(200, {"memberId": member["id"], "status": "Success"})
