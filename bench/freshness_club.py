"""The club the freshness benchmark measures: the demo organisation and every vendor's
sandbox served from this process, one integration per vendor with the connectors'
default intervals, their initial syncs, and the people each measured path changes.

Only the intervals differ from `make demo`'s integrations: the demo polls Perfect Gym's
visits every minute, an operator who keeps the defaults every 5 minutes.
"""

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.utils.module_loading import import_string

from accessctl.models import AccessRule, KisiGroup
from accessctl.services import access_rule_set
from integrations.connectors import connector_class
from integrations.demo import demo_club_load
from integrations.demo_vendors import RunningSandbox, demo_initial_syncs
from integrations.glofox.sandbox import PAYG, UNLIMITED
from integrations.kisi.sandbox import KisiSandbox
from integrations.models import Integration
from integrations.sandbox.transports import free_port, serve
from integrations.services import integration_save
from integrations.sync import sync_run
from packages.models import Package

KINDS = ("kisi", "perfectgym", "gladstone", "glofox", "momence")  # the demo's order: the door system first
DEFAULT_INTERVALS = {"perfectgym": {"swipe_minutes": 5}}  # where the demo's settings leave the defaults
PG_PLAN = 24  # Perfect Gym's "Monthly membership": a Kisi rule gives its holders the Members group
RULE_OWNER = "bench:freshness"


class TimedKisi(KisiSandbox):
    """Kisi's fake, also noting when each role assignment was made or removed (wall clock)."""

    def setup(self, *, members):
        self.role_log: list[tuple[float, str, str, int]] = []  # (time, "add"/"remove", email, group id)
        super().setup(members=members)

    def assignment_add(self, *, user_id, group_id, **fields):
        assignment = super().assignment_add(user_id=user_id, group_id=group_id, **fields)
        self.role_log.append((time.time(), "add", self.users[user_id]["email"].lower(), group_id))
        return assignment

    def assignment_remove(self, assignment_id):
        held = self.assignments[assignment_id]
        super().assignment_remove(assignment_id)
        self.role_log.append((time.time(), "remove", self.users[held["user_id"]]["email"].lower(),
                              held["group_id"]))

    def role_changed_at(self, email: str, action: str, *, after: float) -> float | None:
        """When `email` first gained ("add") or lost ("remove") a role after `after`, if it has."""
        with self.lock:
            return next((at for at, did, who, _ in self.role_log
                         if did == action and who == email.lower() and at >= after), None)


@dataclass
class Club:
    """The running sandboxes (by kind) and the integrations pointing at them."""

    sandboxes: dict[str, RunningSandbox]
    integrations: dict[str, Integration]
    people: dict[str, list]  # what each path changes, by path, one per try

    def fake(self, kind: str):
        return self.sandboxes[kind].fake

    def stop(self) -> None:
        for running in self.sandboxes.values():
            running.server.shutdown()
            running.server.server_close()


def _sandboxes_start() -> dict[str, RunningSandbox]:
    running = {}
    for kind in KINDS:
        connector = connector_class(kind)
        demo_class = import_string(connector.demo)
        fake_class = TimedKisi if kind == "kisi" else import_string(connector.sandbox)
        fake = fake_class(members=demo_class.members, seed=1)
        port = free_port()
        running[kind] = RunningSandbox(kind, fake, serve(fake, port=port),
                                       f"http://127.0.0.1:{port}/{demo_class.url_path}", demo_class(fake=fake))
    return running


def _integrations_save(sandboxes: dict[str, RunningSandbox]) -> dict[str, Integration]:
    made = {}
    for kind, running in sandboxes.items():
        settings, secrets = running.demo.settings(url=running.url)
        made[kind] = integration_save(kind=kind, name=f"{connector_class(kind).label} (sandbox)",
                                      settings={**settings, **DEFAULT_INTERVALS.get(kind, {})}, secrets=secrets)
    return made


def _people_add(sandboxes: dict[str, RunningSandbox], tries: int) -> dict[str, list]:
    """The members each path will change, added to the vendors before the initial syncs."""
    glofox, momence = sandboxes["glofox"].fake, sandboxes["momence"].fake
    people = {
        # Pay-as-you-go: access only for a booked class (the booking rule).
        "booking": [glofox.member_add(membership=PAYG, email=f"fresh-book-{n}@bench.example")["_id"]
                    for n in range(tries)],
        "activated": [glofox.member_add(membership=None, email=f"fresh-join-{n}@bench.example")["_id"]
                      for n in range(tries)],
        "expired": [glofox.member_add(membership=UNLIMITED, email=f"fresh-lapse-{n}@bench.example")["_id"]
                    for n in range(tries)],
        "tagged": [],
    }
    for n in range(tries):
        member_id = 990000 + n
        momence.member_put(member_id, firstName="Fresh", lastName=f"Tag{n}", email=f"fresh-tag-{n}@bench.example",
                           tags=[1], lastSeen=datetime.now(UTC) - timedelta(days=1))
        people["tagged"].append(member_id)
    return people


def club_open(*, tries: int) -> Club:
    """Load the demo organisation, serve every sandbox, make the integrations and run their
    initial syncs (the access changes they queue wait for the worker)."""
    demo_club_load(clients=0)
    sandboxes = _sandboxes_start()
    people = _people_add(sandboxes, tries)
    integrations = _integrations_save(sandboxes)
    demo_initial_syncs(sandboxes={"kisi": sandboxes["kisi"]}, integrations={"kisi": integrations["kisi"]},
                       echo=lambda line: None)
    # A manager's Kisi rule: holders of Perfect Gym's monthly plan are in the Members group.
    access_rule_set(owner=RULE_OWNER, reason=AccessRule.Reason.PACKAGE, group=KisiGroup.objects.get(name="Members"),
                    package_ids={Package.objects.get(alt_id=f"payment_plan_{PG_PLAN}").pk})
    demo_initial_syncs(sandboxes={k: v for k, v in sandboxes.items() if k != "kisi"},
                       integrations={k: v for k, v in integrations.items() if k != "kisi"}, echo=lambda line: None)
    sync_run(integration=integrations["kisi"], sync_name="access")  # everyone's access before the first try
    return Club(sandboxes, integrations, people)


def fake_changed(fake, change) -> object:
    """Apply `change()` to a served fake under its lock (its server threads read it)."""
    with fake.lock:
        return change()
