"""Momence: the initial sync of 20,000 members (tags, members, catalogue, everyone's bought
memberships, a week of sessions and appointments) from the sandbox served by its own
process into PostgreSQL, a rescan with nothing changed, and check-ins after door accesses.

Momence v2 has no modified-since filter, so the rescan is the steady state: its cost is
one list call per 100 members and no writes. Bought memberships are one call per member,
FETCH_THREADS in flight; here the client's pacing (5 calls/s in production) is off, to time
Gatehouse's side. Reports wall and CPU seconds of this (the syncing) process and the calls
made, per sync.
BENCH_MOMENCE_MEMBERS sets a smaller scale for a quick look.
"""

import os
import resource
import threading
from datetime import timedelta

from django.db import connection

from accessctl.models import Door
from accessctl.services import DoorEntry, door_accesses_record
from bench.support import Figure, peak_memory_mb, sandbox_process, timed
from clients.models import Client, Location
from integrations.models import Delivery, SyncRun
from integrations.momence import client as momence_client
from integrations.momence.connector import MomenceConnector
from integrations.momence.sandbox import CLIENT_ID, CLIENT_SECRET, PASSWORD, USERNAME
from integrations.momence.syncs import FETCH_THREADS, MEMBERS_PER_COMMIT, MEMBERS_PER_PAGE
from integrations.services import integration_save
from integrations.sync import sync_run
from packages.models import Booking, ClientPackage

MEMBERS = int(os.environ.get("BENCH_MOMENCE_MEMBERS", "20000"))
INITIAL = ["tags", "members", "memberships", "bought-memberships", "sessions", "appointments"]
BOOKKEEPING = ("integrations_syncrun", "integrations_syncstate", "django_q_", "momence_momencetoken")


class StatementCounter:
    """Counts SQL statements, and writes by table, through connection.execute_wrapper."""

    def __init__(self):
        self.total, self.writes = 0, {}

    def __call__(self, execute, sql, params, many, context):
        self.total += 1
        if sql.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            table = sql.split('"')[1] if '"' in sql else "?"
            self.writes[table] = self.writes.get(table, 0) + 1
        return execute(sql, params, many, context)

    def club_writes(self) -> int:
        return sum(n for table, n in self.writes.items() if not table.startswith(BOOKKEEPING))


class CallCounter:
    """Thread-safe tally of Momence calls (the token grants aside), by sync."""

    def __init__(self):
        self.calls, self.lock = 0, threading.Lock()
        original = momence_client.MomenceClient.call

        def counted(client, method, path, **kwargs):
            with self.lock:
                self.calls += 1
            return original(client, method, path, **kwargs)

        momence_client.MomenceClient.call = counted


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _run(integration, name: str, per_page: list[int] | None = None, counter=None, **options) -> SyncRun:
    mark = [counter.total if counter else 0]

    def progress(done, total):
        if per_page is not None and counter is not None:
            per_page.append(counter.total - mark[0])
            mark[0] = counter.total

    run = sync_run(integration=integration, sync_name=name, options=options, progress=progress)
    if run.status != SyncRun.Status.SUCCEEDED:
        raise RuntimeError(f"{name} failed: {run.error}")
    return run


def run() -> list[Figure]:
    MomenceConnector.http_options = {"rate_per_second": None}  # time Gatehouse, not the pacing
    figures: list[Figure] = []
    with sandbox_process("momence", members=MEMBERS) as url:
        location = Location.objects.create(name="Studio", alt_id="STUDIO", time_zone="Europe/London")
        door = Door.objects.create(title="Studio door", door_id="studio", location=location)
        integration = integration_save(
            kind="momence", name="Momence bench", settings={"base_url": url, "location": location.pk},
            secrets={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "username": USERNAME,
                     "password": PASSWORD})
        seconds, cpu, calls = {}, {}, {}
        per_page = {"members": [], "bought-memberships": []}  # SQL statements of each page
        counter, tally = StatementCounter(), CallCounter()
        with connection.execute_wrapper(counter), timed() as whole:
            for name in INITIAL:
                cpu_before, calls_before = _cpu_seconds(), tally.calls
                with timed() as each:
                    _run(integration, name, per_page.get(name), counter, initial=True)
                seconds[name], cpu[name], calls[name] = each.seconds, _cpu_seconds() - cpu_before, \
                    tally.calls - calls_before
        clients = Client.objects.filter(source=integration.source).count()
        figures += [
            Figure("initial sync wall time", whole.seconds, "s",
                   f"{clients} clients, {ClientPackage.objects.count()} client packages, "
                   f"{Booking.objects.count()} bookings; " + ", ".join(f"{n} {s:.1f} s" for n, s in seconds.items())),
            Figure("initial sync members per second", clients / whole.seconds, "members/s",
                   "all six syncs"),
            Figure("initial sync CPU time of the syncing process", sum(cpu.values()), "s",
                   ", ".join(f"{n} {s:.1f} s" for n, s in cpu.items())
                   + f"; the rest of the wall time is the sandbox process, PostgreSQL and waiting "
                   f"({os.cpu_count()} cores, load {os.getloadavg()[0]:.1f})"),
            Figure("initial sync Momence calls", sum(calls.values()), "calls",
                   ", ".join(f"{n} {c}" for n, c in calls.items())),
            Figure("members scan rate", clients / seconds["members"], "members/s",
                   f"pages of 100 written {MEMBERS_PER_COMMIT} members to a transaction, tags included"),
            Figure("bought memberships read rate", clients / seconds["bought-memberships"], "members/s",
                   f"one call per member, {FETCH_THREADS} in flight, pages of {MEMBERS_PER_PAGE}, pacing off"),
            Figure("SQL statements per members page", max(per_page["members"][:-1] or per_page["members"]),
                   "statements", f"min {min(per_page['members'])} over {len(per_page['members'])} transactions "
                   f"of {MEMBERS_PER_COMMIT} members (pages of 100)"),
            Figure("SQL statements per bought-memberships page",
                   max(per_page["bought-memberships"][:-1] or per_page["bought-memberships"]), "statements",
                   f"min {min(per_page['bought-memberships'])} over {len(per_page['bought-memberships'])} "
                   f"pages of {MEMBERS_PER_PAGE}"),
        ]
        counter = StatementCounter()
        with connection.execute_wrapper(counter), timed() as idle:
            for name in ("tags", "members", "bought-memberships", "sessions", "appointments"):
                _run(integration, name)
        figures += [
            Figure("rescan, nothing changed", idle.seconds, "s",
                   f"tags, members, bought memberships (none due), sessions, appointments; "
                   f"{counter.total} statements"),
            Figure("rescan, nothing changed: writes to club records", counter.club_writes(), "writes",
                   ", ".join(f"{t} {n}" for t, n in sorted(counter.writes.items()))),
        ]
        _run(integration, "checkins")  # the cursor starts
        bookings = Booking.objects.filter(source=integration.source, external_id__startswith="booking:",
                                          status="booked").select_related("session")
        door_accesses_record(source="kisi-bench", entries=[
            DoorEntry(client_id=b.client_id, door=door, accessed_at=b.session.start - timedelta(minutes=10),
                      granted=True, source_ref=f"evt-{b.pk}") for b in bookings])
        with timed() as checkins:
            _run(integration, "checkins")
        sent = Delivery.objects.filter(kind="checkin", state="sent").count()
        figures += [
            Figure("check-ins after door accesses", checkins.seconds, "s",
                   f"{sent} session bookings checked in from {len(bookings)} door accesses"),
            Figure("peak memory", peak_memory_mb(), "MB", "this process; the sandbox runs apart"),
        ]
    return figures
