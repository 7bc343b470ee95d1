"""Freshness: how long a change at a vendor takes to reach Gatehouse and the door.

The club is the demo organisation with one integration per vendor at the connectors'
default intervals (bench/freshness_club.py), every sandbox served over HTTP from this
process, the app served by gunicorn (1 worker x 4 threads) for webhooks and a real
django-q2 worker (`manage.py qcluster`, its default 2 workers) running the schedules
`integration_save` made. The benchmark changes the sandboxes' state directly, as the
vendor would, and times each change until its effect is seen:

- Glofox booking + its BOOKING_CREATED webhook -> Kisi role (a pay-as-you-go member's
  class in 29 minutes, so the booking window is open);
- Glofox membership activated, no webhook -> Kisi role (the members sync, every minute);
- Glofox membership expired, no webhook -> Kisi role removed;
- Perfect Gym new member with a contract -> client, and -> Kisi role (a Kisi rule gives
  holders of the monthly plan the Members group; members and contracts every minute);
- Perfect Gym visit -> door access and its booking (a class in 10 minutes) attended
  (visits every 5 minutes);
- Gladstone member change (surname) -> client (the poller's change queue, then the members sync);
- Momence customer tag added -> client tag (members every 15 minutes). No Kisi role
  follows from a tag today: Kisi access is computed from packages and bookings only.

Kisi effects are timed by the Kisi fake itself (when the role assignment was made or
removed); Gatehouse effects by polling the database every BENCH_FRESHNESS_POLL seconds
(default 0.25). Each path makes BENCH_FRESHNESS_TRIES changes (default 5), one every
BENCH_FRESHNESS_SPACING seconds (default 37, so they fall at different points of the
one-minute schedules and the scheduler's 30-second look), each on its own member; the
paths run at once, a few seconds apart. A try that shows no effect within
BENCH_FRESHNESS_TIMEOUT seconds (default 180) counts as the timeout in p50 and max,
which are then lower bounds (the note says how many): raise it to 660 to see the
10-minute schedules whole, at the cost of a longer run (4 x spacing + timeout).

Before the changes, once the worker's first pass is over, BENCH_FRESHNESS_IDLE_SECONDS
(default 120) with nothing changing: the calls each sandbox receives, per minute, and
the syncs that ran (schedules of 5 minutes and more may or may not fall in the window).
After those tries, the webhook paths of a vendor that cannot sign, one change every
BENCH_FRESHNESS_WEBHOOK_SPACING seconds (default 8), on their own so that the syncs they
wake do not carry the polled paths' changes early: a Perfect Gym new member with a
contract, its UserModified and ContractCreated webhooks sent -> client and -> Kisi role;
a Perfect Gym visit and its UserPresenceChanged webhook -> door access and booking attended.

And the tasks the worker skipped during the tries because their sync was already running
(`sync_task` drops a woken Kisi reconcile that finds another one under way: its clients
then wait for the next scheduled full reconcile).
"""

import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.utils import timezone
from django_q.models import OrmQ, Task

from accessctl.models import DoorAccess
from bench.freshness_club import PG_PLAN, Club, club_open, fake_changed
from bench.support import Figure, process_start, web_start
from clients.models import Client
from integrations.glofox.demo import WEBHOOK_SECRET as GLOFOX_SECRET
from integrations.glofox.sandbox import UNLIMITED
from integrations.models import SyncRun
from integrations.polling import POLL_TASK
from integrations.sandbox.transports import free_port
from integrations.story import webhook_path
from packages.models import Booking, ClassSession

TRIES = int(os.environ.get("BENCH_FRESHNESS_TRIES", 5))
TIMEOUT = float(os.environ.get("BENCH_FRESHNESS_TIMEOUT", 180))
SPACING = float(os.environ.get("BENCH_FRESHNESS_SPACING", 37))
WEBHOOK_SPACING = float(os.environ.get("BENCH_FRESHNESS_WEBHOOK_SPACING", 8))
IDLE = float(os.environ.get("BENCH_FRESHNESS_IDLE_SECONDS", 120))
POLL = float(os.environ.get("BENCH_FRESHNESS_POLL", 0.25))
PATH_GAP = 4.0  # seconds between the paths' first tries, so their changes do not all land at once
LABELS = {"kisi": "Kisi", "perfectgym": "Perfect Gym", "gladstone": "Gladstone", "glofox": "Glofox",
          "momence": "Momence"}


@dataclass
class Effect:
    """One thing a change should cause: `seen()` says when it was there (epoch seconds) or None yet."""

    name: str
    seen: Callable[[], float | None]
    target: float = 15.0  # issue 20's promise, max: 15 s polled, 2 s by webhook


@dataclass
class Try:
    change: Callable
    n: int
    due: float  # monotonic time to make the change
    changed: float | None = None  # epoch seconds when it was made
    effects: list[Effect] = field(default_factory=list)


def _in_db(name: str, check: Callable[[], bool], target: float = 15.0) -> Effect:
    return Effect(name, lambda: time.time() if check() else None, target)


def _kisi_role(club: Club, name: str, email: str, action: str, after: float, target: float = 15.0) -> Effect:
    return Effect(name, lambda: club.fake("kisi").role_changed_at(email, action, after=after), target)


# the paths: each makes its n-th change and says what to wait for ---------------------------
def glofox_booking(club: Club, n: int, web_url: str) -> tuple[float, list[Effect]]:
    glofox, member_id = club.fake("glofox"), club.people["booking"][n]
    changed = time.time()
    start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=29)
    booking = fake_changed(glofox, lambda: glofox.booking_add(member_id, start=start))
    answer = glofox.webhook_send(f"{web_url}api/v1/webhooks/glofox/{club.integrations['glofox'].pk}/",
                                 GLOFOX_SECRET, "BOOKING_CREATED", {"_id": booking["_id"], "user_id": member_id})
    if answer.status_code != 202:
        raise RuntimeError(f"the Glofox webhook was answered {answer.status_code}")
    return changed, [_kisi_role(club, "Glofox booking + webhook -> Kisi role", f"fresh-book-{n}@bench.example",
                                "add", changed, target=2.0)]


def glofox_activated(club: Club, n: int, web_url: str) -> tuple[float, list[Effect]]:
    glofox, member_id = club.fake("glofox"), club.people["activated"][n]
    changed = time.time()
    fake_changed(glofox, lambda: glofox.membership_set(member_id, membership=UNLIMITED, status="ACTIVE"))
    return changed, [_kisi_role(club, "Glofox membership activated, no webhook -> Kisi role",
                                f"fresh-join-{n}@bench.example", "add", changed)]


def glofox_expired(club: Club, n: int, web_url: str) -> tuple[float, list[Effect]]:
    glofox, member_id = club.fake("glofox"), club.people["expired"][n]
    changed = time.time()
    fake_changed(glofox, lambda: glofox.membership_set(member_id, membership=UNLIMITED, status="EXPIRED"))
    return changed, [_kisi_role(club, "Glofox membership expired, no webhook -> Kisi role removed",
                                f"fresh-lapse-{n}@bench.example", "remove", changed)]


def _pg_join(pg, n: int, first_name: str, email: str) -> dict:
    """A new Perfect Gym member with a contract on the plan the Kisi rule names."""
    member = pg.member_put(homeClubId=1, firstName=first_name, lastName=f"Joiner{n}", email=email)
    pg.contract_put(memberId=member["id"], clubId=1, paymentPlanId=PG_PLAN)
    return member


def perfectgym_member(club: Club, n: int, web_url: str) -> tuple[float, list[Effect]]:
    pg, email = club.fake("perfectgym"), f"fresh-pg-{n}@bench.example"
    changed = time.time()

    member = fake_changed(pg, lambda: _pg_join(pg, n, "Fresh", email))
    clients = Client.objects.filter(source=club.integrations["perfectgym"].source, external_id=str(member["id"]))
    return changed, [_in_db("Perfect Gym new member -> client", clients.exists),
                     _kisi_role(club, "Perfect Gym new member with a contract -> Kisi role", email, "add", changed)]


def perfectgym_visit(club: Club, n: int, web_url: str) -> tuple[float, list[Effect]]:
    pg, client = club.fake("perfectgym"), club.people["visiting"][n]
    now = datetime.now(UTC)
    session = ClassSession.objects.create(name="Spin", location=client.home_location,
                                          start=now + timedelta(minutes=10), end=now + timedelta(minutes=55))
    booking = Booking.objects.create(session=session, client=client)  # booked in Gatehouse beforehand
    changed = time.time()
    visit = fake_changed(pg, lambda: pg.visit_add(member_id=int(client.external_id), club_id=1, enter=now))
    accesses = DoorAccess.objects.filter(source_ref=f"visit_{visit['id']}")
    attended = Booking.objects.filter(pk=booking.pk, attended=True)
    return changed, [_in_db("Perfect Gym visit -> door access and booking attended",
                            lambda: accesses.exists() and attended.exists())]


def _pg_webhook(club: Club, web_url: str, event_type: str, **fields) -> None:
    address = f"{web_url.rstrip('/')}{webhook_path(club.integrations['perfectgym'])}"
    answer = club.fake("perfectgym").webhook_send(address, event_type, **fields)
    if answer.status_code != 200:
        raise RuntimeError(f"the Perfect Gym webhook was answered {answer.status_code}")


def perfectgym_member_webhook(club: Club, n: int, web_url: str) -> tuple[float, list[Effect]]:
    pg, email = club.fake("perfectgym"), f"fresh-pgw-{n}@bench.example"
    changed = time.time()

    member = fake_changed(pg, lambda: _pg_join(pg, n, "Hooked", email))
    _pg_webhook(club, web_url, "UserModified", memberId=member["id"])
    _pg_webhook(club, web_url, "ContractCreated", memberId=member["id"])
    clients = Client.objects.filter(source=club.integrations["perfectgym"].source, external_id=str(member["id"]))
    return changed, [_in_db("Perfect Gym new member + webhooks -> client", clients.exists, target=2.0),
                     _kisi_role(club, "Perfect Gym new member with a contract + webhooks -> Kisi role", email, "add",
                                changed, target=2.0)]


def perfectgym_visit_webhook(club: Club, n: int, web_url: str) -> tuple[float, list[Effect]]:
    pg, client = club.fake("perfectgym"), club.people["visiting_hooked"][n]
    now = datetime.now(UTC)
    session = ClassSession.objects.create(name="Spin", location=client.home_location,
                                          start=now + timedelta(minutes=10), end=now + timedelta(minutes=55))
    booking = Booking.objects.create(session=session, client=client)
    changed = time.time()
    visit = fake_changed(pg, lambda: pg.visit_add(member_id=int(client.external_id), club_id=1, enter=now))
    _pg_webhook(club, web_url, "UserPresenceChanged", memberId=int(client.external_id))
    accesses = DoorAccess.objects.filter(source_ref=f"visit_{visit['id']}")
    attended = Booking.objects.filter(pk=booking.pk, attended=True)
    return changed, [_in_db("Perfect Gym visit + webhook -> door access and booking attended",
                            lambda: accesses.exists() and attended.exists(), target=2.0)]


def gladstone_change(club: Club, n: int, web_url: str) -> tuple[float, list[Effect]]:
    client, surname = club.people["changing"][n], f"Freshness{n}"
    changed = time.time()
    club.fake("gladstone").member_put(int(client.external_id), surname=surname)  # it takes its own lock
    renamed = Client.objects.filter(pk=client.pk, last_name__iexact=surname)
    return changed, [_in_db("Gladstone member change -> client", renamed.exists)]


def momence_tag(club: Club, n: int, web_url: str) -> tuple[float, list[Effect]]:
    momence, member_id = club.fake("momence"), club.people["tagged"][n]
    changed = time.time()
    fake_changed(momence, lambda: momence.member_put(member_id, tags=[1, 2]))  # "door-access" added
    tagged = Client.objects.filter(source=club.integrations["momence"].source, external_id=str(member_id),
                                   tags__name="door-access")
    return changed, [_in_db("Momence tag added -> client tag", tagged.exists)]


PATHS = [glofox_booking, glofox_activated, glofox_expired, perfectgym_member, perfectgym_visit,
         gladstone_change, momence_tag]
WEBHOOK_PATHS = [perfectgym_member_webhook, perfectgym_visit_webhook]  # after PATHS: see the docstring


# running -----------------------------------------------------------------------------------
def _people_in_gatehouse(club: Club) -> None:
    """The synced clients the Perfect Gym visit and Gladstone paths change, one per try."""
    pg = club.integrations["perfectgym"].source
    visiting = list(Client.objects.filter(source=pg, home_location__alt_id="UB").select_related("home_location")
                    .order_by("pk")[:2 * TRIES])
    changing = list(Client.objects.filter(source=club.integrations["gladstone"].source).order_by("pk")[:TRIES])
    if len(visiting) < 2 * TRIES or len(changing) < TRIES:
        raise RuntimeError(f"too few synced clients for {TRIES} tries: {len(visiting)} Perfect Gym at Uxbridge, "
                           f"{len(changing)} Gladstone")
    club.people.update(visiting=visiting[:TRIES], visiting_hooked=visiting[TRIES:], changing=changing)


def _worker_settled(started: float) -> None:
    """Wait out the worker's first pass: every schedule is due at once, and the initial syncs'
    access changes are queued."""
    time.sleep(40)
    deadline = started + 600
    quiet = 0
    while quiet < 3:
        if time.monotonic() > deadline:
            raise RuntimeError("the worker's queue did not empty within 10 minutes")
        # The poller (integrations.polling) is always running: only other tasks count.
        busy = any(task.func() != POLL_TASK for task in OrmQ.objects.all()) or \
            SyncRun.objects.filter(status=SyncRun.Status.RUNNING).exists()
        quiet = 0 if busy else quiet + 1
        time.sleep(1)


def _idle(club: Club) -> list[Figure]:
    """Vendor calls per minute while nothing changes."""
    for running in club.sandboxes.values():
        fake_changed(running.fake, running.fake.calls.clear)
    since = datetime.now(UTC)
    time.sleep(IDLE)
    counts = {kind: len(running.fake.calls) for kind, running in club.sandboxes.items()}
    runs = Counter(SyncRun.objects.filter(started_at__gte=since).values_list("integration__kind", "sync_name"))
    figures = []
    for kind, count in counts.items():
        ran = ", ".join(f"{name} x{n}" for (k, name), n in sorted(runs.items()) if k == kind) or "none"
        figures.append(Figure(f"idle: {LABELS[kind]} calls per minute", count * 60 / IDLE, "calls/min",
                              f"{count} calls in {IDLE:.0f} s with nothing changing; syncs run: {ran}"))
    figures.append(Figure("idle: vendor calls per minute, all", sum(counts.values()) * 60 / IDLE, "calls/min",
                          "every sandbox"))
    return figures


def _tries(club: Club, web_url: str, paths=PATHS, spacing: float = SPACING,
           ) -> tuple[dict[str, list[float | None]], dict[str, float]]:
    """Make every path's changes on their timetable: the seconds until each effect (None: timed
    out) and each effect's target, by effect."""
    first = time.monotonic() + 1
    pending = [Try(path, n, first + k * PATH_GAP + n * spacing) for k, path in enumerate(paths) for n in range(TRIES)]
    found: dict[str, list[float | None]] = {}
    targets: dict[str, float] = {}
    while pending:
        for attempt in list(pending):
            if attempt.changed is None:
                if time.monotonic() >= attempt.due:
                    attempt.changed, attempt.effects = attempt.change(club, attempt.n, web_url)
                    targets.update((e.name, e.target) for e in attempt.effects)
                continue
            for effect in list(attempt.effects):
                if (at := effect.seen()) is not None:
                    found.setdefault(effect.name, []).append(max(0.0, at - attempt.changed))
                    attempt.effects.remove(effect)
                elif time.time() - attempt.changed > TIMEOUT:
                    found.setdefault(effect.name, []).append(None)
                    attempt.effects.remove(effect)
            if not attempt.effects:
                pending.remove(attempt)
        time.sleep(POLL)
    return found, targets


def _figures(found: dict[str, list[float | None]], targets: dict[str, float], load: float) -> list[Figure]:
    figures = []
    for name, seconds in found.items():
        late = sum(1 for s in seconds if s is None)
        values = sorted(TIMEOUT if s is None else s for s in seconds)
        each = ", ".join(f">{TIMEOUT:.0f}" if s is None else f"{s:.1f}" for s in seconds)
        bound = f"; {late} of {len(seconds)} over the {TIMEOUT:.0f} s timeout (counted as {TIMEOUT:.0f} s: " \
                f"a lower bound)" if late else ""
        note = f"{len(seconds)} tries: {each} s{bound}; load average {load:.1f} on {os.cpu_count()} cores"
        figures += [Figure(f"{name}: p50", statistics.median(values), "s", note),
                    Figure(f"{name}: max", values[-1], "s", f"target under {targets[name]:.0f} s")]
    return figures


def _skipped(since) -> Figure:
    """Tasks the worker dropped during the tries because their sync was already running: a
    woken reconcile lost this way waits for the next scheduled one."""
    skipped = Counter(" ".join(t.name.split()[:3]) for t in Task.objects.filter(started__gte=since)
                      if str(t.result).startswith("skipped"))
    return Figure("tasks skipped: their sync was already running", sum(skipped.values()), "tasks",
                  ", ".join(f"{name} x{n}" for name, n in sorted(skipped.items())) or "none")


def run() -> list[Figure]:
    club = club_open(tries=TRIES)
    _people_in_gatehouse(club)
    env = dict(os.environ, LOG_LEVEL="WARNING")
    env.pop("Q_WORKERS", None)  # the operator's default
    port = free_port()
    processes = [web_start(port, workers=1, threads=4, env=env)]
    try:
        processes.append(process_start([sys.executable, "manage.py", "qcluster"], env))
        _worker_settled(time.monotonic())
        figures = _idle(club)
        load = os.getloadavg()[0]  # the machine is shared: say how busy it was
        since = timezone.now()
        web_url = f"http://127.0.0.1:{port}/"
        found, targets = _tries(club, web_url)
        hooked, hooked_targets = _tries(club, web_url, WEBHOOK_PATHS, WEBHOOK_SPACING)
        figures = _figures({**found, **hooked}, {**targets, **hooked_targets}, load) + [_skipped(since)] + figures
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)
        club.stop()
    return figures
