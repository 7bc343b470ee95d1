"""Gladstone Plus2's fake: the Member Web Service's SOAP endpoints over the sandbox base.

State: members (soft-deleted with IsDeleted), their subscriptions, attendances per
site, subscription types per group, and a change queue per systemName that keeps
every change until CleanupMemberChanges (a new systemName's queue starts with every
member). The AuthHeader is checked on every call (a soap:Fault otherwise). Logins:
PIN and Password compared plainly, SecurePassword against a stored hash, as an
instance with UseStrongPassword on would (`strong_passwords`).
"""

import hashlib
from collections import Counter
from datetime import date, datetime, timedelta
from functools import lru_cache
from xml.sax.saxutils import escape

from integrations.gladstone import contract as c
from integrations.gladstone.client import parse_xml
from integrations.sandbox import Sandbox, SandboxResponse, route

USERNAME, PASSWORD, APP_NAME = "gatehouse-api", "gladstone-pass-5512", "Gatehouse"
SITES = ("UB", "SPA", "MAN", "DUB")
ACTIVE, FROZEN, LAPSED = "LIVE", "FROZEN", "LAPSED"
SUBSCRIPTION_TYPES = {
    "FISIK": [
        ("PTPK", "Personal training pack"),
        ("PTPK01", "PT pack, home club"),
        ("PTPK02", "PT pack, London clubs"),
        ("INITIALPK", "Initial consultation"),
        ("CLASS10", "10 class credits"),
    ],
    "ACCES": [("GYM12", "12 month gym access"), ("OFFPK", "Off-peak access")],
}
FIRST = ["Alex", "Sam", "Jo", "Chris", "Priya", "Amir", "Mia", "Noah", "Zoe", "Liam", "Ava", "Ravi"]
LAST = ["Smith", "Jones", "Patel", "Murphy", "Khan", "Brown", "O'Neill", "Evans", "Walsh", "Reid"]
_OPERATIONS = {op.soap_action: op for op in c.OPERATIONS}
_AUTH = f"{{{c.SOAP_ENV}}}Header/{{{c.NAMESPACE}}}{c.AUTH_HEADER}"


def password_hash(password: str, salt: str) -> str:
    """How the fake stores a strong password (UseStrongPassword on)."""
    return hashlib.sha256(f"{salt}:{password}".encode()).hexdigest()


def _text(value) -> str:
    if type(value) is str:
        return escape(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.strftime(c.DATETIME_FORMAT)
    if isinstance(value, date):
        return f"{value:%Y-%m-%d}T00:00:00"
    return escape(str(value))


def record_xml(tag: str | None, fields: dict[str, str], values: dict) -> str:
    """One record element with the contract's element names ("A/B" nests B in A);
    without `tag`, just its fields (RetrieveMember's result is the member itself)."""
    top, groups = _layout(tuple(fields.items()))
    out = [f"<{name}>{_text(values[attr])}</{name}>" for attr, name in top if values.get(attr) is not None]
    for parent, children in groups:
        inner = "".join(f"<{name}>{_text(values[attr])}</{name}>"
                        for attr, name in children if values.get(attr) is not None)
        if inner:
            out.append(f"<{parent}>{inner}</{parent}>")
    return f"<{tag}>{''.join(out)}</{tag}>" if tag else "".join(out)


@lru_cache(maxsize=16)
def _layout(fields: tuple[tuple[str, str], ...]):
    """(the top-level (attr, element) pairs, then each parent of "A/B" paths with its
    (attr, child) pairs, in the contract's order): worked out once per record kind."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for attr, path in fields:
        if "/" in path:
            parent, child = path.split("/", 1)
            groups.setdefault(parent, []).append((attr, child))
    top = tuple((attr, path) for attr, path in fields if "/" not in path)
    return top, tuple((parent, tuple(children)) for parent, children in groups.items())


def _envelope(body: str) -> str:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{c.SOAP_ENV}">'
        f"<soap:Body>{body}</soap:Body></soap:Envelope>"
    )


def fault_response(code: str, text: str, status: int = 500) -> SandboxResponse:
    body = _envelope(
        f"<soap:Fault><faultcode>soap:{code}</faultcode>"
        f"<faultstring>{escape(text)}</faultstring><detail/></soap:Fault>"
    )
    return SandboxResponse(status, body, content_type=c.CONTENT_TYPE)


class GladstoneSandbox(Sandbox):
    kind = "gladstone"
    keep_alive = True  # IIS keeps connections open: one per calling thread, not one per call

    def setup(self, *, members: int) -> None:
        self.members: dict[int, dict] = {}
        self.subscriptions: dict[int, dict[str, dict]] = {}
        self.attendances: dict[str, list[dict]] = {site: [] for site in SITES}
        self.queues: dict[str, list[dict]] = {}
        self.types = {group: list(items) for group, items in SUBSCRIPTION_TYPES.items()}
        self.strong_passwords = False
        self.change_batch = 1000  # changes handed out per GetMemberChanges
        self.next_member, self.next_ref, self.next_attendance = 100001, 1, 1
        now = datetime.now().replace(microsecond=0)
        rng = self.rng
        for _ in range(members):
            site = rng.choice(SITES)
            member_id = self.member_put(
                forename=rng.choice(FIRST),
                surname=rng.choice(LAST),
                dob=date(1950, 1, 1) + timedelta(days=rng.randrange(22000)),
                site_id=site,
                status_id=rng.choices([ACTIVE, LAPSED, FROZEN], [85, 10, 5])[0],
                is_deleted=rng.random() < 0.01,
            )
            sub_type = rng.choice(["PTPK", "PTPK02", "INITIALPK", "CLASS10", "GYM12"])
            start = now - timedelta(days=rng.randrange(1, 400))
            self.subscription_put(
                member_id,
                sub_type_id=sub_type,
                site_id=site,
                start_date=start,
                end_date=start + timedelta(days=365),
            )
            if rng.random() < 0.5:
                self.attendance_add(member_id, site, now - timedelta(minutes=rng.randrange(1, 1400)))

    # changing the state (tests and the demo) ---------------------------------------
    def member_put(self, member_id: int | None = None, **fields) -> int:
        """Create or change a member; queue the change for every subscriber."""
        with self.lock:
            if member_id is None:
                member_id, self.next_member = self.next_member, self.next_member + 1
            member = self.members.get(member_id)
            if member is None:
                member = self.members[member_id] = {
                    "member_id": member_id,
                    "forename": "",
                    "surname": "",
                    "email": f"m{member_id}@example.com",
                    "dob": None,
                    "site_id": SITES[0],
                    "status_id": ACTIVE,
                    "is_deleted": False,
                    "login_id": f"m{member_id}",
                    "card_id": f"C{member_id}",
                    "pin": f"{member_id % 10000:04d}",
                }
                fields.setdefault("password", f"pw-{member_id}")
            if "password" in fields:
                member["password_hash"] = password_hash(fields["password"], str(member_id))
            member.update(fields)
            self._queue(member_id)
            return member_id

    def members_churn(self, count: int) -> list[int]:
        """Change `count` random members as a day at the club would: a new email, a status
        change, or a new subscription. Returns their ids."""
        with self.lock:
            chosen = self.rng.sample(sorted(self.members), min(count, len(self.members)))
            now = datetime.now().replace(microsecond=0)
            for n, member_id in enumerate(chosen):
                if n % 3 == 0:
                    self.member_put(member_id, email=f"m{member_id}.{self.rng.randrange(1000)}@example.com")
                elif n % 3 == 1:
                    self.member_put(member_id, status_id=self.rng.choice([ACTIVE, LAPSED, FROZEN]))
                else:
                    site = self.members[member_id]["site_id"]
                    self.subscription_put(member_id, sub_type_id="PTPK", site_id=site, start_date=now,
                                          end_date=now + timedelta(days=30))
            return chosen

    def member_delete(self, member_id: int) -> None:
        """Soft-delete a member (IsDeleted), as Gladstone does."""
        self.member_put(member_id, is_deleted=True)

    def subscription_put(self, member_id: int, ref: str | None = None, **fields) -> str:
        """Create or change a member's subscription; queues the member's change."""
        with self.lock:
            if ref is None:
                ref, self.next_ref = f"S{self.next_ref:07d}", self.next_ref + 1
            held = self.subscriptions.setdefault(member_id, {})
            held.setdefault(
                ref,
                {
                    "subscription_ref": ref,
                    "auto_renew": True,
                    "creation_date": datetime.now().replace(microsecond=0),
                },
            ).update(fields)
            self._queue(member_id)
            return ref

    def attendance_add(self, member_id: int, site_id: str, at: datetime, *, granted: bool = True) -> int:
        """Record a door access (`at` is the site's local time, naive)."""
        with self.lock:
            attendance_id, self.next_attendance = self.next_attendance, self.next_attendance + 1
            self.attendances.setdefault(site_id, []).append(
                {
                    "attendance_id": attendance_id,
                    "member_id": member_id,
                    "site_id": site_id,
                    "entry_point": "Main door",
                    "accessed_at": at,
                    "granted": granted,
                }
            )
            return attendance_id

    def _queue(self, member_id: int) -> None:
        stamp = datetime.now().replace(microsecond=0)
        for queue in self.queues.values():
            queue.append({"member_id": member_id, "change_date": stamp, "run": None})

    def queued(self, system_name: str) -> list[int]:
        """The member ids queued for a subscriber (not yet cleaned up)."""
        return [entry["member_id"] for entry in self.queues.get(system_name, [])]

    def operations(self) -> list[str]:
        """The operations called so far, in order."""
        return [call.header("SOAPAction").strip('"').rsplit("/", 1)[-1] for call in self.calls]

    def call_counts(self) -> Counter:
        """Calls by SOAP operation (every call is a POST to an .asmx)."""
        with self.lock:
            return Counter(self.operations())

    # the wire --------------------------------------------------------------------
    def error(self, status: int, message: str) -> SandboxResponse:
        return fault_response(c.SERVER_FAULT, message, status)

    @route("POST", r"(?:.*/)?(?:Login|Members|General|Subscriptions)\.asmx")
    def soap(self, request):
        operation = _OPERATIONS.get(request.header("SOAPAction").strip('"'))
        if operation is None or operation.area != request.path.rsplit("/", 1)[-1]:
            return fault_response(
                c.CLIENT_FAULT,
                "Server did not recognize the value of HTTP Header "
                f"SOAPAction: {request.header('SOAPAction')}.",
            )
        try:
            root = parse_xml(request.body)
        except ValueError as error:
            return fault_response(c.CLIENT_FAULT, f"Server was unable to read request. {error}")
        auth = root.find(_AUTH)
        given = {
            k: (auth.findtext(f"{{{c.NAMESPACE}}}{k}", "") if auth is not None else "")
            for k in (c.AUTH_USERNAME, c.AUTH_PASSWORD, c.AUTH_APP_NAME)
        }
        if given != {c.AUTH_USERNAME: USERNAME, c.AUTH_PASSWORD: PASSWORD, c.AUTH_APP_NAME: APP_NAME}:
            return fault_response(
                c.CLIENT_FAULT, "Authentication failed: unknown Username, Password or AppName."
            )
        call = root.find(f"{{{c.SOAP_ENV}}}Body/{{{c.NAMESPACE}}}{operation.name}")
        params = (
            {}
            if call is None
            else {
                child.tag.split("}", 1)[-1]: (
                    [item.text or "" for item in child] if len(child) else (child.text or "")
                )
                for child in call
            }
        )
        try:
            result = getattr(self, f"op_{operation.name}")(params)
        except (ValueError, KeyError) as error:
            return fault_response(c.CLIENT_FAULT, f"Server was unable to process request. {error!r}")
        inner = "" if result is None else f"<{operation.result}>{result}</{operation.result}>"
        body = _envelope(f'<{operation.response} xmlns="{c.NAMESPACE}">{inner}</{operation.response}>')
        return SandboxResponse(200, body, content_type=c.CONTENT_TYPE)

    # operations: params by element name -> the inner XML of <OpResult> (None: no result)
    def op_CheckMemberLogin(self, p: dict) -> str:
        kind, value, how, secret = (
            p["LoginId"],
            p["idValue"].strip(),
            p["loginValidationType"],
            p["validationValue"],
        )
        if kind not in c.LOGIN_ID_KINDS or how not in c.VALIDATION_TYPES:
            raise ValueError(f"Invalid LoginId {kind!r} or loginValidationType {how!r}")
        key = {
            "MemberID": "member_id",
            "LoginID": "login_id",
            "CardID": "card_id",
            "HomeEmailAddress": "email",
        }[kind]
        found = next(
            (
                m
                for m in self.members.values()
                if not m["is_deleted"] and str(m[key]).casefold() == value.casefold()
            ),
            None,
        )
        if found is None:
            return "0"
        if how == "PIN":
            ok = secret == found["pin"]
        elif how == "Password":
            ok = not self.strong_passwords and secret == found["password"]
        else:
            ok = (
                self.strong_passwords
                and password_hash(secret, str(found["member_id"])) == found["password_hash"]
            )
        return str(found["member_id"]) if ok else "0"

    def op_GetSubscriptionTypes(self, p: dict) -> str:
        groups = p.get("subscriptionTypeGroupIDs") or []
        groups = [groups] if isinstance(groups, str) else groups
        return "".join(
            record_xml(
                c.SUBSCRIPTION_TYPE,
                c.SUBSCRIPTION_TYPE_FIELDS,
                {"sub_type_id": sub_type, "description": text, "pro_rata": False},
            )
            for group in groups
            for sub_type, text in self.types.get(group, [])
        )

    def op_GetMemberChanges(self, p: dict) -> str:
        system, last_run_id, run_id = p["systemName"].strip(), int(p["lastRunId"]), int(p["runId"])
        if not system or run_id <= last_run_id:
            raise ValueError("systemName is required and runId must follow lastRunId")
        if system not in self.queues:  # a new subscriber starts with every member
            stamp = datetime.now().replace(microsecond=0)
            self.queues[system] = [{"member_id": m, "change_date": stamp, "run": None} for m in self.members]
        batch = self.queues[system][: self.change_batch]
        for entry in batch:
            entry["run"] = run_id
        return "".join(record_xml(c.MEMBER_CHANGE, c.MEMBER_CHANGE_FIELDS, entry) for entry in batch)

    def op_CleanupMemberChanges(self, p: dict) -> None:
        system = p["systemName"].strip()
        self.queues[system] = [e for e in self.queues.get(system, []) if e["run"] is None]
        return None

    def op_RetrieveMember(self, p: dict) -> str | None:
        member = self.members.get(int(p["memberId"]))
        if member is None:
            return None
        shown = dict(member)
        if self.strong_passwords:
            shown.pop("password")  # UseStrongPassword on: no readable password
        if self.take_malformed():
            shown["dob"] = "31/02/1990"
        return record_xml(None, c.MEMBER_FIELDS, shown)

    def op_GetMemberSubscriptionsWithDetails(self, p: dict) -> str:
        held = self.subscriptions.get(int(p["memberId"]), {})
        return "".join(record_xml(c.SUBSCRIPTION, c.SUBSCRIPTION_FIELDS, s) for s in held.values())

    def op_GetMemberAttendances(self, p: dict) -> str:
        since, until = datetime.fromisoformat(p["fromDate"]), datetime.fromisoformat(p["toDate"])
        rows = [a for a in self.attendances.get(p["siteId"], []) if since <= a["accessed_at"] <= until]
        out = []
        for row in rows:
            if self.take_malformed():
                row = {**row, "accessed_at": "yesterday"}
            out.append(record_xml(c.ATTENDANCE, c.ATTENDANCE_FIELDS, row))
        return "".join(out)
