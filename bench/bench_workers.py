"""Scale-out on Redis: 1, 2 and 4 qcluster processes (each one worker, as if on separate
machines) share one Redis and one PostgreSQL; many integrations' syncs are queued at once.

Each round queues one member sync per integration (BENCH_WORKERS_INTEGRATIONS, default
24, each reading BENCH_WORKERS_MEMBERS members, default 2,000, from one example-vendor
sandbox process) into Redis, and times from the queueing to the last run's success. Between
rounds the synced clients and cursors are cleared, so every round does the same work.
BENCH_REDIS_URL (default redis://127.0.0.1:6379/14, flushed) is the broker.
"""

import os
import subprocess
import sys
import time

import redis
from django_q.brokers.redis_broker import Redis as RedisBroker
from django_q.tasks import async_task

from bench.support import ROOT, Figure, sandbox_process, timed
from clients.models import Client
from integrations.example.sandbox import API_KEY
from integrations.models import SyncRun, SyncState
from integrations.services import integration_save

INTEGRATIONS = int(os.environ.get("BENCH_WORKERS_INTEGRATIONS", "24"))
MEMBERS = int(os.environ.get("BENCH_WORKERS_MEMBERS", "2000"))
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
PROCESSES = (1, 2, 4)


class _RedisBroker(RedisBroker):
    """django-q2's Redis broker on BENCH_REDIS_URL (this process was set up without Redis)."""

    @staticmethod
    def get_connection(list_key: str | None = None):
        return redis.from_url(REDIS_URL)


def _env() -> dict[str, str]:
    return {**os.environ, "REDIS_URL": REDIS_URL, "Q_WORKERS": "1", "LOG_LEVEL": "WARNING"}


def _clusters_start(count: int) -> list[subprocess.Popen]:
    """`count` qcluster processes on Redis, waited for until each reports itself."""
    processes = [subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=_env(),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(count)]
    connection = redis.Redis.from_url(REDIS_URL)
    deadline = time.monotonic() + 60
    while len(connection.keys("django_q:gatehouse:cluster:*")) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{count} qcluster process(es) did not report within 60 s")
        time.sleep(0.5)
    return processes


def _clusters_stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=60)


def _round(integrations: list, count: int) -> float:
    """Seconds from queueing every sync to the last one's success, with `count` processes."""
    sources = [i.source for i in integrations]
    Client.all_objects.filter(source__in=sources).delete()
    SyncState.objects.filter(integration__in=integrations).delete()
    SyncRun.objects.filter(integration__in=integrations).delete()
    processes = _clusters_start(count)
    try:
        ids = [i.pk for i in integrations]
        with timed() as clock:
            broker = _RedisBroker()
            for pk in ids:
                async_task("integrations.tasks.sync_task", pk, "members", SyncRun.Trigger.MANUAL, broker=broker)
            deadline = time.monotonic() + 1800
            while SyncRun.objects.filter(integration__in=integrations,
                                         status=SyncRun.Status.SUCCEEDED).count() < len(ids):
                if SyncRun.objects.filter(integration__in=integrations, status=SyncRun.Status.FAILED).exists():
                    raise RuntimeError("a sync failed: " + SyncRun.objects.filter(
                        status=SyncRun.Status.FAILED).values_list("error", flat=True).first())
                if time.monotonic() > deadline:
                    raise RuntimeError("the syncs did not finish within 30 minutes")
                time.sleep(0.2)
    finally:
        _clusters_stop(processes)
    written = Client.all_objects.filter(source__in=sources).count()
    if written != len(ids) * MEMBERS:
        raise RuntimeError(f"{written} clients written, {len(ids) * MEMBERS} expected")
    return clock.seconds


def run() -> list[Figure]:
    redis.Redis.from_url(REDIS_URL).flushdb()
    figures = []
    with sandbox_process("example", members=MEMBERS) as url:
        integrations = [integration_save(kind="example", name=f"Bench club {n}", settings={"base_url": url},
                                         secrets={"api_key": API_KEY}) for n in range(INTEGRATIONS)]
        # Only the queued tasks run: no schedule fires during a round.
        from django_q.models import Schedule

        Schedule.objects.filter(name__startswith="integration:").delete()
        first = None
        for count in PROCESSES:
            seconds = _round(integrations, count)
            first = first or seconds
            figures += [
                Figure(f"{count} worker process(es): {INTEGRATIONS} syncs", seconds, "s",
                       f"{INTEGRATIONS * MEMBERS} members in all, Redis broker"),
                Figure(f"{count} worker process(es): throughput", INTEGRATIONS * MEMBERS / seconds, "members/s",
                       f"{first / seconds:.2f}x one process"),
            ]
    return figures
