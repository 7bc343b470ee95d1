"""A Kisi access reconcile of N clients with package access (BENCH_KISI_CLIENTS, default
100,000: the figure issue 20 tracks) into an empty Kisi sandbox, then a run with nothing
changed.

The sandbox (`manage.py sandbox kisi --members 0`) runs in its own process and counts
the calls it receives (read back through its sandbox-only `_sandbox/calls` route).
Reports wall time, Kisi calls by kind and a second, calls in flight (the integration's
"in_flight" setting: BENCH_KISI_IN_FLIGHT, default the connector's), the CPU seconds of
the reconciling process and of the sandbox (which of the two bounds the run), writes and
list calls per 100 records of the no-change run, SQL statements and peak memory. A last
run pushes 2,000 new members while the sandbox answers 429 past BENCH_KISI_RATE_LIMIT
calls a second (default 500): the 429s answered, calls a second, and nothing lost.
"""

import math
import os
import resource
import time
from datetime import timedelta

import requests
from django.db import connection
from django.utils import timezone

from accessctl.models import AccessRule, KisiGroup
from bench.support import Figure, peak_memory_mb, sandbox_process, timed
from clients.models import Client, Location
from integrations.fetching import forks_for
from integrations.kisi.client import IN_FLIGHT
from integrations.kisi.sandbox import API_KEY
from integrations.models import SyncRun
from integrations.services import integration_save
from integrations.sync import sync_run
from packages.models import ClientPackage, Package

LIMITED_CLIENTS = 2000  # new members of the run against a rate-limited sandbox


class Statements:
    """Counts the SQL statements this process sends."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def _club(clients: int) -> None:
    """One location (the sandbox's "Uxbridge" place maps to it by name), one membership,
    `clients` holders of it."""
    Location.objects.create(name="Uxbridge", alt_id="UB", time_zone="Europe/London")
    Package.objects.create(alt_id="MONTHLY", name="Monthly membership")
    _members(range(clients))


def _members(numbers: range) -> None:
    """Holders of the membership, numbered `numbers`."""
    membership = Package.objects.get(alt_id="MONTHLY")
    created = Client.objects.bulk_create(
        (Client(first_name=f"Member{n}", last_name="Bench", email=f"bench{n:06d}@example.com",
                source="bench", external_id=str(n)) for n in numbers), batch_size=5000)
    start = timezone.now() - timedelta(days=30)
    ClientPackage.objects.bulk_create(
        (ClientPackage(client=c, package=membership, start=start, source="bench") for c in created),
        batch_size=5000)


def _calls(url: str) -> dict[str, int]:
    return requests.get(f"{url}_sandbox/calls", timeout=30).json()["calls"]


def _sandbox_state(url: str) -> dict:
    return requests.get(f"{url}_sandbox/state", timeout=30).json()


def _forked_cpu_seconds() -> float:
    """CPU of this process's children that have ended: during a run, its forked callers
    (integrations.fetching.Forks; the sandbox ends only after the benchmark)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Reconcile:
    """One access run, measured: wall and CPU seconds (ours and the sandbox's), calls, 429s, SQL."""

    def __init__(self, integration, url: str, statements: Statements):
        requests.post(f"{url}_sandbox/calls/clear", timeout=30)
        before, sandbox = statements.count, _sandbox_state(url)
        cpu, forked = time.process_time(), _forked_cpu_seconds()
        with timed() as clock, connection.execute_wrapper(statements):
            self.run = sync_run(integration=integration, sync_name="access")
        if self.run.status != SyncRun.Status.SUCCEEDED:
            raise RuntimeError(f"the reconcile failed: {self.run.error}")
        after = _sandbox_state(url)
        self.seconds, self.cpu_seconds = clock.seconds, time.process_time() - cpu
        self.forked_cpu_seconds = _forked_cpu_seconds() - forked
        self.cpu_seconds += self.forked_cpu_seconds
        self.sandbox_cpu_seconds = after["cpu_seconds"] - sandbox["cpu_seconds"]
        self.limited = after["limited"] - sandbox["limited"]
        self.calls, self.sql = _calls(url), statements.count - before


def _kinds(calls: dict[str, int]) -> str:
    return ", ".join(f"{kind} {n}" for kind, n in sorted(calls.items()))


def run() -> list[Figure]:
    clients = int(os.environ.get("BENCH_KISI_CLIENTS", 100_000))
    in_flight = int(os.environ.get("BENCH_KISI_IN_FLIGHT", IN_FLIGHT))
    rate_limit = float(os.environ.get("BENCH_KISI_RATE_LIMIT", 500))
    _club(clients)
    statements = Statements()
    with sandbox_process("kisi", members=0) as url:
        integration = integration_save(kind="kisi", name="Bench Kisi", secrets={"api_key": API_KEY},
                                       settings={"base_url": url, "in_flight": in_flight})
        if sync_run(integration=integration, sync_name="doors").status != SyncRun.Status.SUCCEEDED:
            raise RuntimeError("the doors import failed")
        rule = AccessRule.objects.create(group=KisiGroup.objects.get(name="Members"),
                                         reason=AccessRule.Reason.PACKAGE, owner="bench")
        rule.packages.set(Package.objects.all())
        first = Reconcile(integration, url, statements)
        again = Reconcile(integration, url, statements)
        # Kisi over its rate: new members pushed against a sandbox that answers 429 past it.
        _members(range(clients, clients + LIMITED_CLIENTS))
        requests.post(f"{url}_sandbox/rate_limit", json={"per_second": rate_limit}, timeout=30)
        limited = Reconcile(integration, url, statements)
    if first.run.created != clients or again.run.unchanged != clients:
        raise RuntimeError(f"unexpected counts: {first.run.summary()} / {again.run.summary()}")
    if limited.run.created != LIMITED_CLIENTS or limited.run.failed:
        raise RuntimeError(f"the rate-limited run lost some: {limited.run.summary()}")
    writes = sum(n for kind, n in again.calls.items()
                 if kind.split(" ", 1)[0] in ("POST", "PUT", "PATCH", "DELETE"))
    lists = sum(n for kind, n in again.calls.items() if kind.startswith("GET "))
    calls = sum(first.calls.values())
    processes = forks.processes if (forks := forks_for(clients, in_flight=in_flight)) else 1
    limited_calls = sum(limited.calls.values())
    return [
        Figure("from empty: wall time", first.seconds, "s", f"{clients} clients with package access"),
        Figure("from empty: Kisi calls", calls, "calls", _kinds(first.calls)),
        Figure("from empty: Kisi calls per second", calls / first.seconds, "calls/s",
               f"{in_flight} in flight, one pace for all"),
        Figure("from empty: calls in flight", in_flight, "calls", "the integration's in_flight setting"),
        Figure("from empty: 429s answered", first.limited, "calls", "the sandbox sets no limit here"),
        Figure("from empty: clients per second", clients / first.seconds, "clients/s"),
        Figure("from empty: reconciling process CPU", first.cpu_seconds, "s",
               f"{first.cpu_seconds / calls * 1000:.3f} ms a call, HTTP client included; "
               f"{first.forked_cpu_seconds:.1f} s of it in forked callers (up to {processes} processes)"),
        Figure("from empty: sandbox process CPU", first.sandbox_cpu_seconds, "s",
               f"{first.sandbox_cpu_seconds / calls * 1000:.3f} ms a call"),
        Figure("from empty: SQL statements", first.sql, "statements"),
        Figure("no change: wall time", again.seconds, "s"),
        Figure("no change: Kisi writes", writes, "calls", "target 0"),
        Figure("no change: list calls per 100 records", lists / (clients / 100), "calls",
               f"{lists} list calls for {clients} role assignments (target <= 1; "
               f"minimum {math.ceil(clients / 100)})"),
        Figure("no change: Kisi calls", sum(again.calls.values()), "calls", _kinds(again.calls)),
        Figure("no change: SQL statements", again.sql, "statements"),
        Figure("over the rate: 429s answered", limited.limited, "calls",
               f"{LIMITED_CLIENTS} new clients, the sandbox limited to {rate_limit:g} calls/s; none lost"),
        Figure("over the rate: Kisi calls per second", limited_calls / limited.seconds, "calls/s",
               f"{limited_calls} calls in {limited.seconds:.1f} s, 429s included: every caller waits Retry-After"),
        Figure("peak memory", peak_memory_mb(), "MB", "the reconciling process"),
    ]
