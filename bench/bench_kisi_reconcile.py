"""A Kisi access reconcile of N clients with package access (BENCH_KISI_CLIENTS, default
20,000) into an empty Kisi sandbox, then a run with nothing changed.

The sandbox (`manage.py sandbox kisi --members 0`) runs in its own process and counts
the calls it receives (read back through its sandbox-only `_sandbox/calls` route).
Reports wall time, Kisi calls by kind, writes and list calls per 100 records of the
no-change run, SQL statements and peak memory of the reconciling process.
"""

import math
import os
from datetime import timedelta

import requests
from django.db import connection
from django.utils import timezone

from accessctl.models import AccessRule, KisiGroup
from bench.support import Figure, peak_memory_mb, sandbox_process, timed
from clients.models import Client, Location
from integrations.kisi.sandbox import API_KEY
from integrations.models import SyncRun
from integrations.services import integration_save
from integrations.sync import sync_run
from packages.models import ClientPackage, Package


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
    membership = Package.objects.create(alt_id="MONTHLY", name="Monthly membership")
    created = Client.objects.bulk_create(
        (Client(first_name=f"Member{n}", last_name="Bench", email=f"bench{n:06d}@example.com",
                source="bench", external_id=str(n)) for n in range(clients)), batch_size=5000)
    start = timezone.now() - timedelta(days=30)
    ClientPackage.objects.bulk_create(
        (ClientPackage(client=c, package=membership, start=start, source="bench") for c in created),
        batch_size=5000)


def _calls(url: str) -> dict[str, int]:
    return requests.get(f"{url}_sandbox/calls", timeout=30).json()["calls"]


def _reconcile(integration, url: str, statements: Statements) -> tuple[SyncRun, float, dict, int]:
    requests.post(f"{url}_sandbox/calls/clear", timeout=30)
    before = statements.count
    with timed() as clock, connection.execute_wrapper(statements):
        run = sync_run(integration=integration, sync_name="access")
    if run.status != SyncRun.Status.SUCCEEDED:
        raise RuntimeError(f"the reconcile failed: {run.error}")
    return run, clock.seconds, _calls(url), statements.count - before


def _kinds(calls: dict[str, int]) -> str:
    return ", ".join(f"{kind} {n}" for kind, n in sorted(calls.items()))


def run() -> list[Figure]:
    clients = int(os.environ.get("BENCH_KISI_CLIENTS", 20_000))
    _club(clients)
    statements = Statements()
    with sandbox_process("kisi", members=0) as url:
        integration = integration_save(kind="kisi", name="Bench Kisi", settings={"base_url": url},
                                       secrets={"api_key": API_KEY})
        if sync_run(integration=integration, sync_name="doors").status != SyncRun.Status.SUCCEEDED:
            raise RuntimeError("the doors import failed")
        rule = AccessRule.objects.create(group=KisiGroup.objects.get(name="Members"),
                                         reason=AccessRule.Reason.PACKAGE, owner="bench")
        rule.packages.set(Package.objects.all())
        first, first_seconds, first_calls, first_sql = _reconcile(integration, url, statements)
        again, again_seconds, again_calls, again_sql = _reconcile(integration, url, statements)
    if first.created != clients or again.unchanged != clients:
        raise RuntimeError(f"unexpected counts: {first.summary()} / {again.summary()}")
    writes = sum(n for kind, n in again_calls.items()
                 if kind.split(" ", 1)[0] in ("POST", "PUT", "PATCH", "DELETE"))
    lists = sum(n for kind, n in again_calls.items() if kind.startswith("GET "))
    return [
        Figure("from empty: wall time", first_seconds, "s", f"{clients} clients with package access"),
        Figure("from empty: Kisi calls", sum(first_calls.values()), "calls", _kinds(first_calls)),
        Figure("from empty: clients per second", clients / first_seconds, "clients/s"),
        Figure("from empty: SQL statements", first_sql, "statements"),
        Figure("no change: wall time", again_seconds, "s"),
        Figure("no change: Kisi writes", writes, "calls", "target 0"),
        Figure("no change: list calls per 100 records", lists / (clients / 100), "calls",
               f"{lists} list calls for {clients} role assignments (target <= 1; "
               f"minimum {math.ceil(clients / 100)})"),
        Figure("no change: Kisi calls", sum(again_calls.values()), "calls", _kinds(again_calls)),
        Figure("no change: SQL statements", again_sql, "statements"),
        Figure("peak memory", peak_memory_mb(), "MB", "the reconciling process"),
    ]
