"""100,000 members end to end: Perfect Gym (vendor) -> Gatehouse -> Kisi, against the time
PostgreSQL's own COPY takes to write the same client rows on this machine.

Both sandboxes run in their own processes. Every synced member with an active
membership package gets Kisi access through one package rule, so every member becomes
a Kisi user with a role. BENCH_E2E_MEMBERS sets a smaller scale.
"""

import os

import requests

from accessctl.models import AccessRule, KisiGroup
from bench.bench_perfectgym import CLIENT_SYNCS, _setup
from bench.floor import copy_floor
from bench.support import Figure, peak_memory_mb, sandbox_process, timed
from clients.models import Client
from integrations.kisi.client import IN_FLIGHT
from integrations.kisi.sandbox import API_KEY
from integrations.models import SyncRun
from integrations.services import integration_save
from integrations.sync import sync_run
from packages.models import Package

MEMBERS = int(os.environ.get("BENCH_E2E_MEMBERS", "100000"))


def _succeed(integration, name: str, **options) -> SyncRun:
    run = sync_run(integration=integration, sync_name=name, options=options)
    if run.status != SyncRun.Status.SUCCEEDED:
        raise RuntimeError(f"{integration.kind} {name} failed: {run.error}")
    return run


def run() -> list[Figure]:
    with sandbox_process("perfectgym", members=MEMBERS) as pg_url, sandbox_process("kisi", members=0) as kisi_url:
        perfectgym = _setup(pg_url)
        kisi = integration_save(kind="kisi", name="Bench Kisi", secrets={"api_key": API_KEY},
                                settings={"base_url": kisi_url, "reconcile_minutes": 1})
        _succeed(kisi, "doors")
        rule = AccessRule.objects.create(group=KisiGroup.objects.get(name="Members"),
                                         reason=AccessRule.Reason.PACKAGE, owner="bench")
        rule.packages.set(Package.objects.filter(alt_id__startswith="payment_plan_"))
        with timed() as inbound:
            for name in CLIENT_SYNCS:
                _succeed(perfectgym, name, initial=True)
        requests.post(f"{kisi_url}_sandbox/calls/clear", timeout=30)
        with timed() as outbound:
            access = _succeed(kisi, "access")
        kisi_calls = sum(requests.get(f"{kisi_url}_sandbox/calls", timeout=30).json()["calls"].values())
        total = inbound.seconds + outbound.seconds
    clients = Client.objects.count()
    copy = copy_floor().seconds
    return [
        Figure("vendor -> Gatehouse (initial sync)", inbound.seconds, "s", f"{clients} clients with their packages"),
        Figure("Gatehouse -> Kisi (reconcile from empty)", outbound.seconds, "s",
               f"{access.created} role assignments; users created as needed"),
        Figure("Gatehouse -> Kisi calls per second", kisi_calls / outbound.seconds, "calls/s",
               f"{kisi_calls} calls, {IN_FLIGHT} in flight (the default)"),
        Figure("end to end", total, "s", f"{MEMBERS} members"),
        Figure("PostgreSQL COPY of the same client rows", copy, "s", "the hardware's floor for these rows"),
        Figure("end to end / COPY", total / copy, "x", "how far from the machine's limit"),
        Figure("Gatehouse part / COPY", inbound.seconds / copy, "x", "vendor -> Gatehouse only"),
        Figure("peak memory", peak_memory_mb(), "MB", "the syncing process; sandboxes apart"),
    ]
