"""Glofox to Kisi, and Kisi unlocks back to Glofox check-ins.

1. Sync: BENCH_GLOFOX_MEMBERS Glofox members (default 20,000; the sandbox books a class
   for a quarter of them: 5,000 bookings) synced into an empty Kisi, both sandboxes in
   their own processes (`manage.py sandbox glofox|kisi`). The members and bookings
   syncs run as the scheduler would, and each wakes the Kisi reconcile for the clients
   it changed (tasks run in-process). Then a no-change run: both Glofox syncs again and
   Kisi's scheduled full reconcile. Reports wall times and Kisi calls by kind (list vs
   write); targets: no writes, at most one list call per 100 records.
2. Unlock -> check-in: the app served by gunicorn (gthread, BENCH_GLOFOX_WEB_WORKERS x
   BENCH_GLOFOX_WEB_THREADS, default 2 x 8) receives BENCH_UNLOCK_EVENTS signed Kisi
   `lock.unlock` webhooks (default 2,000, signed ahead) at BENCH_UNLOCK_RATE a second
   (default 200, open loop, at most BENCH_UNLOCK_SECONDS) from BENCH_UNLOCK_SENDERS
   processes (default 4) on loopback. Reports the webhook answer
   latency p50/p99 (target under 50 ms), and from the app answering in this process
   (rolled back) the queries and CPU per webhook; then a django-q2 worker turns the queued
   unlocks into door accesses and Glofox check-ins, and the time until the last
   check-in reached Glofox is reported.
"""

import json
import multiprocessing
import os
import statistics
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import requests
from django.db import connections
from django_q.conf import Conf
from django_q.models import Schedule

from accessctl.models import Door, DoorSystemUser, KisiGroup, KisiPlace
from bench.support import Figure, peak_memory_mb, process_start, sandbox_process, timed, web_start
from clients.models import Location
from integrations.connectors import connector_for
from integrations.glofox.models import GlofoxConfiguration
from integrations.glofox.sandbox import API_KEY, API_TOKEN, BRANCH_ID, CLASSES, UNLIMITED
from integrations.glofox.services import configuration_save
from integrations.kisi.sandbox import API_KEY as KISI_KEY
from integrations.kisi.sandbox import webhook_sign
from integrations.models import Integration, SyncRun
from integrations.sandbox.transports import free_port
from integrations.services import integration_save
from integrations.sync import sync_run

KISI_SECRET = "bench-kisi-webhook-secret"  # noqa: S105 - the benchmark's own
WRITE = ("POST", "PUT", "PATCH", "DELETE")


def _kisi_calls(url: str) -> dict[str, int]:
    return requests.get(f"{url}_sandbox/calls", timeout=30).json()["calls"]


def _split(calls: dict[str, int]) -> tuple[int, int]:
    """(list calls, write calls); Kisi's event search is a POST that writes nothing."""
    lists = sum(n for kind, n in calls.items() if kind.startswith("GET "))
    writes = sum(n for kind, n in calls.items() if kind.split(" ", 1)[0] in WRITE and "event_sets" not in kind)
    return lists, writes


def _kinds(calls: dict[str, int]) -> str:
    return ", ".join(f"{kind} {n}" for kind, n in sorted(calls.items()))


def _run(integration, name: str) -> SyncRun:
    run = sync_run(integration=integration, sync_name=name)
    if run.status != SyncRun.Status.SUCCEEDED:
        raise RuntimeError(f"{integration.kind} {name} failed: {run.error}")
    return run


def _setup(glofox_url: str, kisi_url: str):
    Location.objects.create(name="Uxbridge", alt_id="UB", time_zone="Europe/London")
    kisi = integration_save(kind="kisi", name="Kisi", settings={"base_url": kisi_url, "events_polling": False},
                            secrets={"api_key": KISI_KEY, "webhook_secret": KISI_SECRET})
    _run(kisi, "doors")
    glofox = integration_save(kind="glofox", name="Glofox", settings={"base_url": glofox_url},
                              secrets={"api_key": API_KEY, "api_token": API_TOKEN})
    catalogue = connector_for(glofox).client().memberships(branch=BRANCH_ID)
    configuration_save(configuration=GlofoxConfiguration(
        integration=glofox, branch_id=BRANCH_ID, kisi_group=KisiGroup.objects.get(name="Members"),
        kisi_place=KisiPlace.objects.get(name="Uxbridge"), membership_types=[UNLIMITED, CLASSES],
        bookings_enabled=True), memberships=catalogue)
    return glofox, kisi


def _sync_phase(members: int) -> list[Figure]:
    figures = []
    with sandbox_process("glofox", members=members) as glofox_url, \
            sandbox_process("kisi", members=0) as kisi_url:
        glofox, kisi = _setup(glofox_url, kisi_url)
        Conf.SYNC = True  # the reconciles the Glofox syncs wake run here, as a worker would
        requests.post(f"{kisi_url}_sandbox/calls/clear", timeout=30)
        with timed() as first:
            with timed() as members_clock:
                members_run = _run(glofox, "members")
            with timed() as bookings_clock:
                bookings_run = _run(glofox, "bookings")
        empty_calls = _kisi_calls(kisi_url)
        reconciles = SyncRun.objects.filter(integration=kisi, sync_name="access")
        held = sum(r.created for r in reconciles)
        requests.post(f"{kisi_url}_sandbox/calls/clear", timeout=30)
        with timed() as again:
            quiet = [_run(glofox, "members"), _run(glofox, "bookings")]
            woken = reconciles.count()
            full = _run(kisi, "access")  # the scheduled full reconcile
        again_calls = _kisi_calls(kisi_url)
        lists, writes = _split(again_calls)
        empty_lists, empty_writes = _split(empty_calls)
        note = f"{members} members, {bookings_run.created} bookings"
        figures += [
            Figure("from empty: wall time", first.seconds, "s",
                   f"{note}; members sync {members_clock.seconds:.1f} s, bookings sync "
                   f"{bookings_clock.seconds:.1f} s, Kisi reconciles they woke included"),
            Figure("from empty: Glofox members synced", members_run.created, "clients",
                   f"{members_run.pages} pages of 100, no user cap"),
            Figure("from empty: Kisi role assignments", held, "roles", f"{reconciles.count()} reconcile run(s)"),
            Figure("from empty: Kisi list calls", empty_lists, "calls"),
            Figure("from empty: Kisi write calls", empty_writes, "calls", _kinds(empty_calls)),
            Figure("no change: wall time", again.seconds, "s",
                   "Glofox members and bookings syncs, then Kisi's full reconcile"),
            Figure("no change: Glofox records read", sum(r.pages for r in quiet), "pages",
                   f"clients changed: {sum(r.created + r.updated for r in quiet)}; "
                   f"Kisi reconciles woken: {reconciles.count() - woken}"),
            Figure("no change: Kisi write calls", writes, "calls", "target 0"),
            Figure("no change: Kisi list calls per 100 records", lists / max(1, full.unchanged / 100), "calls",
                   f"{lists} list calls for {full.unchanged} role assignments held (target <= 1; "
                   f"{lists / ((members + bookings_run.created) / 100):.2f} per 100 Glofox records); "
                   f"{_kinds(again_calls)}"),
        ]
        Conf.SYNC = False
        state = requests.get(f"{glofox_url}_sandbox/state", timeout=30).json()
        figures.append(Figure("Glofox calls answered 429", state["rate_limited"], "calls",
                              "the client paces itself at 10 requests/s"))
        figures += _unlock_phase(glofox_url)
    return figures


ENV = dict(os.environ, LOG_LEVEL="WARNING", CONN_MAX_AGE="60", Q_WORKERS="2")


def _unlock(actor_id: int, lock_id: int) -> tuple[bytes, dict]:
    """A signed Kisi lock.unlock webhook delivery: (body, headers)."""
    event = {"uuid": str(uuid.uuid4()), "type": "lock.unlock", "actor_type": "User", "actor_id": actor_id,
             "actor_name": "Bench", "object_type": "Lock", "object_id": lock_id,
             "object_name": "Uxbridge main entrance", "organization_id": 1, "place_id": None, "success": True,
             "error_code": None, "error_message": None,
             "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    return webhook_sign(KISI_SECRET, event)


def _send_share(share) -> list[tuple[float, int]]:
    """In a sender process: post every `senders`-th delivery at its time; (seconds, status) each."""
    url, start, rate, stop_at, bodies, offset, senders = share

    def post(item):
        n, (body, headers) = item
        delay = start + (n * senders + offset) / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        if time.monotonic() > stop_at:
            return None
        started = time.perf_counter()
        status = requests.post(url, data=body, headers=headers, timeout=30).status_code
        return time.perf_counter() - started, status

    with ThreadPoolExecutor(4) as pool:
        return [a for a in pool.map(post, enumerate(bodies)) if a is not None]


def _in_process(url: str, users: list[str], lock: int, times: int = 200) -> tuple[int, float]:
    """(queries of one webhook after the process's first, CPU ms per webhook): the app answering
    in this process through Django's test client, every row rolled back."""
    from django.db import connection, transaction
    from django.test import Client

    client = Client()
    bodies = [_unlock(int(users[n % len(users)]), lock) for n in range(times + 2)]
    queries = []

    def post(body, headers):
        response = client.post(url, data=body, content_type="application/json", headers=headers)
        assert response.status_code == 202, response.content

    def counted(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with transaction.atomic():
        post(*bodies[0])
        with connection.execute_wrapper(counted):
            post(*bodies[1])
        cpu = time.process_time()
        for body, headers in bodies[2:]:
            post(body, headers)
        cpu = (time.process_time() - cpu) / times * 1000
        transaction.set_rollback(True)
    return len(queries), cpu


def _unlock_phase(glofox_url: str) -> list[Figure]:
    count = int(os.environ.get("BENCH_UNLOCK_EVENTS", 2000))
    rate = float(os.environ.get("BENCH_UNLOCK_RATE", 200))
    budget = float(os.environ.get("BENCH_UNLOCK_SECONDS", 60))
    kisi = Integration.objects.get(kind="kisi")
    lock = Door.objects.get(title="Uxbridge main entrance").kisi_lock_id
    # Members whose access comes through Glofox (Unlimited holders): each unlock is a check-in.
    users = list(DoorSystemUser.objects.filter(
        system=kisi.source, client__packages__package__alt_id=f"glofox_{UNLIMITED}",
        client__packages__status="active").values_list("external_id", flat=True)[:count])
    before = requests.get(f"{glofox_url}_sandbox/state", timeout=30).json()["accesses"]
    # Scheduled syncs other than check-ins are paused so the figures are the unlock path's;
    # check-ins run when an unlock wakes them, and every minute as the backstop.
    Schedule.objects.exclude(name__endswith=":checkins").update(repeats=0)
    port = free_port()
    url = f"http://127.0.0.1:{port}/api/v1/webhooks/kisi/{kisi.pk}/"
    queries, cpu = _in_process(f"/api/v1/webhooks/kisi/{kisi.pk}/", users, int(lock))
    workers = int(os.environ.get("BENCH_GLOFOX_WEB_WORKERS", 2))
    threads = int(os.environ.get("BENCH_GLOFOX_WEB_THREADS", 8))
    processes = [web_start(port, workers=workers, threads=threads, env=ENV)]
    bodies = [_unlock(int(users[n % len(users)]), int(lock)) for n in range(count)]  # signed ahead
    senders = int(os.environ.get("BENCH_UNLOCK_SENDERS", 4))
    try:
        for _ in range(20):  # warm every web worker up
            requests.post(url, data=json.dumps({}).encode(), headers={"X-Signature": "x"}, timeout=30)
        connections.close_all()  # the senders are forked: they must not share our connection
        start = time.monotonic() + 1.0
        # Several processes send (a single Python process's threads would queue on its own GIL).
        shares = [(url, start, rate, start + budget, bodies[i::senders], i, senders) for i in range(senders)]
        load = os.getloadavg()[0]  # the machine is shared: say how busy it was
        with multiprocessing.get_context("fork").Pool(senders) as pool, timed() as sending:
            answers = [a for part in pool.map(_send_share, shares) for a in part]
        latencies = [seconds for seconds, _ in answers]
        statuses = [status for _, status in answers]
        sent = len(latencies)
        # The worker starts once the load is over: on these 2 shared cores it would take the
        # CPU the web workers answer with (production runs workers on other machines).
        processes.append(process_start([sys.executable, "manage.py", "qcluster"], ENV))
        delivered, waited = before, 0.0
        patience = float(os.environ.get("BENCH_CHECKIN_WAIT", 600))
        with timed() as draining:
            while waited < patience and delivered - before < sent:
                time.sleep(1)
                waited += 1
                delivered = requests.get(f"{glofox_url}_sandbox/state", timeout=30).json()["accesses"]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)
    latencies.sort()
    refused = sum(1 for s in statuses if s != 202)
    note = (f"{sent} signed lock.unlock webhooks at {rate:.0f}/s over {sending.seconds:.1f} s from "
            f"{senders} sender processes; gunicorn {workers} workers x {threads} threads, loopback; "
            f"load average {load:.1f} on {os.cpu_count()} cores before")
    return [
        Figure("unlock webhook answer p50", statistics.median(latencies) * 1000, "ms", note),
        Figure("unlock webhook answer p99", latencies[int(len(latencies) * 0.99) - 1] * 1000, "ms",
               "target under 10 ms (issue 20)"),
        Figure("unlock webhooks not accepted", refused, "requests", "anything but 202"),
        Figure("unlock webhook queries", queries, "queries", "per webhook answered (the process's first reads "
               "the integration too)"),
        Figure("unlock webhook CPU", cpu, "ms", "per webhook answered in-process (Django's test client), "
               "the database's not counted"),
        Figure("check-ins delivered to Glofox", delivered - before, "check-ins",
               f"POST 2.0/access received by the sandbox {draining.seconds:.0f} s after a django-q2 "
               f"worker (2 processes) started on the queued unlocks; check-ins go out at Glofox's "
               f"10 requests/s"),
        Figure("peak memory", peak_memory_mb(), "MB", "the benchmark process"),
    ]


def run() -> list[Figure]:
    return _sync_phase(int(os.environ.get("BENCH_GLOFOX_MEMBERS", 20_000)))
