"""A full Gladstone member sync (members + subscriptions) from its sandbox into PostgreSQL.

The sandbox (`manage.py sandbox gladstone --members N`, N = BENCH_GLADSTONE_MEMBERS,
default 50,000) runs in its own process; the whole change queue is read, every member
and their subscriptions fetched (two SOAP calls per member, eight in flight), mapped and
written a page at a time; each change-queue batch's calls are made in up to
VENDOR_CALL_PROCESSES processes (integrations.fetching.Forks). Reports wall time, peak
memory of the syncing process, SOAP calls made (counted by the sandbox) and SQL statements
per page, then the cost of a run with nothing queued. CPU is split three ways: the fetch
threads and forked callers (the SOAP calls), the engine's thread (mapping and writing) and
the sandbox process (the vendor's side, its seeding included).
"""

import os
import resource
import time

import requests
from django.db import connection

from accessctl.models import Door
from bench.support import Figure, peak_memory_mb, sandbox_process, timed
from clients.models import Client, Location, LocationTier
from integrations.fetching import forks_for
from integrations.gladstone.sandbox import APP_NAME, PASSWORD, SITES, USERNAME, GladstoneSandbox
from integrations.gladstone.syncs import FETCH_THREADS, PAGE_SIZE
from integrations.models import SyncRun
from integrations.services import integration_save
from integrations.sync import sync_run
from packages.models import ClientPackage, Package


class Counter:
    """The main thread's SQL statements."""

    def __init__(self):
        self.statements = 0

    def __call__(self, execute, sql, params, many, context):
        self.statements += 1
        return execute(sql, params, many, context)


def _soap_calls(url: str) -> int:
    """The SOAP calls the sandbox has answered (from every process that called it)."""
    return sum(requests.get(f"{url}_sandbox/calls", timeout=30).json()["calls"].values())


SANDBOX_BATCH = GladstoneSandbox(members=0).change_batch  # members a change-queue read hands out


def _club() -> None:
    for site in SITES:
        location = Location.objects.create(name=f"Club {site}", alt_id=site, time_zone="Europe/London")
        Door.objects.create(title=f"{site} entrance", door_id=site, location=location)
    Package.objects.bulk_create(Package(alt_id=a, name=a) for a in ("PTPK", "PTPK01", "INITIALPK", "CLASS10"))
    LocationTier.objects.bulk_create(LocationTier(alt_id=a, name=a) for a in ("01", "02"))


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # children that have exited
    return usage.ru_utime + usage.ru_stime


def _sync(integration, counter: Counter, url: str) -> tuple[SyncRun, float, int, int, float, float, float]:
    calls, statements, cpu, engine = _soap_calls(url), counter.statements, _cpu_seconds(), time.thread_time()
    forked = _children_cpu_seconds()  # only the run's forked callers end (and count) meanwhile
    with timed() as clock, connection.execute_wrapper(counter):
        run = sync_run(integration=integration, sync_name="members")
    if run.status != SyncRun.Status.SUCCEEDED:
        raise RuntimeError(f"the sync failed: {run.error}")
    return (run, clock.seconds, _soap_calls(url) - calls, counter.statements - statements, _cpu_seconds() - cpu,
            time.thread_time() - engine, _children_cpu_seconds() - forked)


def run() -> list[Figure]:
    members = int(os.environ.get("BENCH_GLADSTONE_MEMBERS", 50_000))
    _club()
    counter = Counter()
    children = _children_cpu_seconds()
    with sandbox_process("gladstone", members=members) as url:
        integration = integration_save(
            kind="gladstone", name="Bench", settings={
                "base_url": url, "app_name": APP_NAME, "username": USERNAME, "active_statuses": ["LIVE", "FROZEN"],
                "subscription_type_groups": ["FISIK"], "minimum_age": None, "notification_emails": [],
                "validation_type": "Password", "delete_on_is_deleted": False, "system_name": "Bench",
                "sync_minutes": 5,
            }, secrets={"password": PASSWORD},
        )
        first, seconds, calls, statements, cpu, engine, forked = _sync(integration, counter, url)
        idle, idle_seconds, idle_calls, idle_statements, _, _, idle_forked = _sync(integration, counter, url)
    sandbox_cpu = _children_cpu_seconds() - children - forked - idle_forked
    processes = forks.processes if (forks := forks_for(2 * SANDBOX_BATCH, in_flight=FETCH_THREADS)) else 1
    clients, packages = Client.objects.count(), ClientPackage.objects.count()
    setup = (f"{members} members, pages of {PAGE_SIZE}, {FETCH_THREADS} calls in flight, in {processes} "
             f"process(es) (VENDOR_CALL_PROCESSES)")
    return [
        Figure("full member sync", seconds, "s", setup),
        Figure("members per second", members / seconds, "members/s", setup),
        Figure("CPU time of the syncing process", cpu, "s",
               f"the forked callers apart; the rest of the wall time is the sandbox process, PostgreSQL "
               f"and waiting ({os.cpu_count()} cores, load {os.getloadavg()[0]:.1f})"),
        Figure("CPU time of the fetch threads", cpu - engine + forked, "s",
               f"{(cpu - engine + forked) / calls * 1000:.2f} ms per SOAP call: building, sending, reading, "
               f"parsing; {forked:.1f} s of it in the forked callers"),
        Figure("CPU time of the engine's thread", engine, "s", "mapping, writing, handing out the fetches"),
        Figure("CPU time of the sandbox process", sandbox_cpu, "s",
               f"{sandbox_cpu / calls * 1000:.2f} ms per SOAP call, seeding {members} members included"),
        Figure("peak memory (syncing process)", peak_memory_mb(), "MB", "the sandbox runs in its own process"),
        Figure("SOAP calls", calls, "calls", f"{calls / members:.2f} per member"),
        Figure("SQL statements per page", statements / first.pages, "statements",
               f"{first.pages} pages, {statements} statements in all"),
        Figure("clients created", clients, "clients", f"{first.skipped} members not created (inactive)"),
        Figure("client packages written", packages, "rows", "subscriptions with a matching package"),
        Figure("run with nothing queued", idle_seconds, "s",
               f"{idle_calls} SOAP call(s), {idle_statements} statements, {idle.pages} pages"),
    ]
