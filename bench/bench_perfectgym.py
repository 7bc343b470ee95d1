"""Perfect Gym: the initial sync of 100,000 members with about 120,000 contracts from the
sandbox (served by its own process) into PostgreSQL, then an ongoing sync with nothing
changed.

Statements are counted with a connection execute wrapper (no SQL is kept, so counting
costs neither time nor memory); the engine's progress callback marks the boundaries of
its pages (one transaction each: the syncs group four vendor pages of 500 rows), so each
count includes the look-ups, the upserts, the cursor and the run counters.
BENCH_PG_MEMBERS sets a smaller scale for a quick look.
"""

import os
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connection

from accessctl.models import Door
from bench.floor import SYNCED_TABLES, copy_floor
from bench.support import Figure, database_cpu_seconds, peak_memory_mb, sandbox_process, timed
from clients.models import Client, IdentityType, Location
from integrations.models import SyncRun
from integrations.perfectgym.sandbox import CLIENT_ID, CLIENT_SECRET, CLUBS, PLANS, PRODUCTS
from integrations.perfectgym.syncs import ROWS_PER_COMMIT
from integrations.services import integration_save
from integrations.sync import sync_run
from packages.models import ClientPackage, Package

MEMBERS = int(os.environ.get("BENCH_PG_MEMBERS", "100000"))
CLIENT_SYNCS = ["members", "contracts", "member_products"]
BOOKKEEPING = ("integrations_syncrun", "integrations_syncstate", "django_q_")


class StatementCounter:
    """Counts SQL statements, and writes by table, through connection.execute_wrapper."""

    def __init__(self):
        self.total = 0
        self.writes: dict[str, int] = {}

    def __call__(self, execute, sql, params, many, context):
        self.total += 1
        verb = sql.lstrip().split(" ", 1)[0].upper()
        if verb in ("INSERT", "UPDATE", "DELETE"):
            table = sql.split('"')[1] if '"' in sql else "?"
            self.writes[table] = self.writes.get(table, 0) + 1
        return execute(sql, params, many, context)

    def club_writes(self) -> int:
        return sum(n for table, n in self.writes.items() if not table.startswith(BOOKKEEPING))


@contextmanager
def counting():
    counter = StatementCounter()
    with connection.execute_wrapper(counter):
        yield counter


def _setup(url: str):
    for club_id, name, zone in CLUBS:
        location = Location.objects.create(name=name, alt_id=f"C{club_id}", time_zone=zone,
                                           integration_numbers={"perfectgym_club": str(club_id)})
        Door.objects.create(title=f"{name} entrance", door_id=f"door-{club_id}", location=location)
    Package.objects.bulk_create([Package(alt_id=f"payment_plan_{p[0]}", name=p[1]) for p in PLANS] +
                                [Package(alt_id=f"product_{p[0]}", name=p[1]) for p in PRODUCTS])
    identity = IdentityType.objects.create(display_name="Perfect Gym Customer Number")
    return integration_save(kind="perfectgym", name="Perfect Gym bench", settings={
        "base_url": url, "client_id": CLIENT_ID, "identity_type": identity.pk, "sync_members": True,
        "member_minutes": 10, "sync_swipes": True, "swipe_minutes": 5, "attendance_minutes": 30,
    }, secrets={"client_secret": CLIENT_SECRET})


def _run(integration, name: str, counter: StatementCounter, per_page: list[int], **options) -> SyncRun:
    mark = [counter.total]

    def progress(done, total):
        per_page.append(counter.total - mark[0])
        mark[0] = counter.total

    run = sync_run(integration=integration, sync_name=name, options=options, progress=progress,
                   trigger=SyncRun.Trigger.INITIAL if options else SyncRun.Trigger.COMMAND)
    if run.status != SyncRun.Status.SUCCEEDED:
        raise RuntimeError(f"{name} failed: {run.error}")
    return run


@dataclass
class InitialSync:
    """What an initial sync of the client syncs took: wall seconds (whole and per sync), CPU
    seconds of this process and of its PostgreSQL backend, the machine's load around it."""

    seconds: float = 0.0
    each: dict[str, float] = field(default_factory=dict)
    cpu: float = 0.0
    database_cpu: float | None = None
    load: tuple[float, float] = (0.0, 0.0)

    def note(self) -> str:
        database = f", its PostgreSQL backend {self.database_cpu:.1f} s" if self.database_cpu is not None else ""
        return (f"members {self.each['members']:.1f} s, contracts {self.each['contracts']:.1f} s, member products "
                f"{self.each['member_products']:.1f} s; CPU: this process {self.cpu:.1f} s{database}; "
                f"machine load average {self.load[0]:.1f} before, {self.load[1]:.1f} after")


def initial_sync(integration, counter: StatementCounter, pages: dict[str, list[int]]) -> InitialSync:
    """Run the client syncs' initial sync (members, contracts, member products) and time it."""
    took = InitialSync(load=(os.getloadavg()[0], 0.0))
    cpu, database = time.process_time(), database_cpu_seconds()
    with timed() as whole:
        for name in CLIENT_SYNCS:
            with timed() as each:
                _run(integration, name, counter, pages.setdefault(name, []), initial=True)
            took.each[name] = each.seconds
    took.seconds, took.cpu = whole.seconds, time.process_time() - cpu
    if database is not None and (after := database_cpu_seconds()) is not None:
        took.database_cpu = after - database
    took.load = (took.load[0], os.getloadavg()[0])
    return took


def run() -> list[Figure]:
    figures: list[Figure] = []
    with sandbox_process("perfectgym", members=MEMBERS) as url:
        integration = _setup(url)
        pages: dict[str, list[int]] = {}
        with counting() as counter:
            took = initial_sync(integration, counter, pages)
        clients, packages = Client.objects.count(), ClientPackage.objects.count()
        figures += [
            Figure("initial sync wall time", took.seconds, "s",
                   f"{clients} clients, {packages} client packages; {took.note()}"),
            Figure("initial sync CPU time", took.cpu, "s", "this process (the sync and its page reader)"),
            Figure("initial sync peak memory", peak_memory_mb(), "MB", "this process; the sandbox runs apart"),
        ]
        for name in ("members", "contracts"):
            counts = Counter(pages[name][1:])  # the first page also carries the run's start
            usual = counts.most_common(1)[0][0]
            others = ", ".join(f"{n} pages with {c}" for c, n in sorted(counts.items()) if c != usual)
            figures.append(Figure(
                f"SQL statements per {name} transaction", usual, "statements",
                f"each transaction writes {ROWS_PER_COMMIT} rows ({ROWS_PER_COMMIT // 500} vendor pages of 500); "
                f"{counts[usual]} of "
                f"{len(pages[name]) - 1} after the first; {others or 'no other count'} (+1: the ANALYZE "
                f"after 1,000 and 10,000 rows); the first {pages[name][0]} with the run's start"))
        with counting() as counter:
            with timed() as catch_up:
                visits = _run(integration, "visits", counter, [])
        figures.append(Figure("visits first run", catch_up.seconds, "s",
                              f"{visits.created} door accesses from the seeded visits"))
        with counting() as counter, timed() as idle:
            runs = [_run(integration, name, counter, []) for name in (*CLIENT_SYNCS, "visits")]
        figures += [
            Figure("ongoing sync, nothing changed", idle.seconds, "s",
                   f"members, contracts, member products and visits; {counter.total} statements, "
                   f"{sum(r.pages for r in runs)} pages"),
            Figure("ongoing sync, nothing changed: writes to club records", counter.club_writes(), "writes",
                   "bookkeeping only: " + ", ".join(f"{t} {n}" for t, n in sorted(counter.writes.items()))),
        ]
    rows, every = copy_floor(), copy_floor(tables=SYNCED_TABLES, complete=True)
    copy = rows.seconds
    figures += [
        Figure("PostgreSQL COPY of the same client rows", copy, "s",
               f"the hardware's floor for these rows: a twin with the upsert's unique key only; {rows.note()}"),
        Figure("initial sync / COPY", took.seconds / copy, "x", "vendor -> Gatehouse, against the floor"),
        Figure("members sync / COPY of the same client rows", took.each["members"] / copy, "x",
               "the sync that writes those client rows (and their identities), against their COPY"),
        Figure("PostgreSQL COPY of every row the initial sync writes", every.seconds, "s",
               f"into twins LIKE ... INCLUDING ALL, with the same deferred foreign keys; {every.note()}"),
        Figure("initial sync / COPY of every row it writes", took.seconds / every.seconds, "x",
               "vendor -> Gatehouse, against the floor with every index and constraint the sync pays"),
    ]
    if took.database_cpu is not None and every.database_cpu:
        figures.append(Figure(
            "initial sync PostgreSQL CPU / COPY of every row it writes", took.database_cpu / every.database_cpu, "x",
            f"the backend's CPU seconds, {took.database_cpu:.1f} s against {every.database_cpu:.2f} s "
            "(firmer than wall time on a shared machine)"))
    return figures
