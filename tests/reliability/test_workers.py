"""Real workers: one killed midway, two at once, the database dropping connections.

Each test starts `manage.py qcluster` processes against the test database (PostgreSQL,
so another process can see it) and a vendor sandbox over real HTTP.
"""

import os
import signal
import subprocess
import sys
import time

import pytest
from django.db import connection
from django_q.models import Schedule, Task
from django_q.tasks import async_task

from clients.models import Client
from integrations.example.sandbox import API_KEY, ExampleSandbox
from integrations.models import SyncRun, SyncState
from integrations.sandbox.transports import served
from integrations.services import integration_save
from tests.integrations.test_worker import worker_env
from tests.reliability.scenarios import SCENARIOS
from tests.reliability.test_faults import assert_same_records, run_until_done

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
MEMBERS = 1000


@pytest.fixture
def slow_vendor():
    """1,000 members in 10 pages, each page answered in 0.6 s: a sync of about 6 s."""
    fake = ExampleSandbox(members=MEMBERS, seed=11)
    fake.inject(delay=0.6, times=10**6, path="^members$")
    with served(fake) as url:
        yield fake, url


@pytest.fixture
def integration(slow_vendor):
    _, url = slow_vendor
    made = integration_save(kind="example", name="Reliable", settings={"base_url": url, "member_minutes": 600},
                            secrets={"api_key": API_KEY})
    Schedule.objects.all().delete()  # the tests queue runs themselves
    return made


class Workers:
    """qcluster processes, each in its own process group so SIGKILL takes all its children."""

    def __init__(self):
        self.env = {**worker_env(), "SYNC_LEASE_SECONDS": "3", "Q_WORKERS": "2"}
        self.procs: list[subprocess.Popen] = []

    def start(self) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "manage.py", "qcluster"], env=self.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        self.procs.append(proc)
        return proc

    def kill(self, proc, sig=signal.SIGKILL) -> None:
        os.killpg(proc.pid, sig)
        proc.wait(timeout=30)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                self.kill(proc)


@pytest.fixture
def workers():
    pool = Workers()
    yield pool
    pool.stop_all()


def wait_for(predicate, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.3)
    pytest.fail(f"timed out waiting for {what}")


def queue_sync(integration) -> None:
    async_task("integrations.tasks.sync_task", integration.pk, "members")


def synced_ids(integration) -> list[str]:
    return list(Client.all_objects.filter(source=integration.source).values_list("external_id", flat=True))


def test_worker_killed_midway_then_restarted_ends_the_same(integration, workers):
    worker = workers.start()
    queue_sync(integration)
    first = wait_for(lambda: SyncRun.objects.filter(pages__gte=2).first(), 60, "two committed pages")
    workers.kill(worker)
    committed = SyncState.objects.get(integration=integration, sync_name="members").cursor
    kept = len(synced_ids(integration))
    assert 0 < kept < MEMBERS and committed

    workers.start()
    time.sleep(3.5)  # the dead run's lease runs out
    queue_sync(integration)
    done = wait_for(lambda: SyncRun.objects.filter(status=SyncRun.Status.SUCCEEDED).first(), 90, "a finished run")
    first.refresh_from_db()
    assert first.status == SyncRun.Status.ABANDONED
    assert done.cursor_before >= committed  # resumed, not restarted
    ids = synced_ids(integration)
    assert len(ids) == len(set(ids)) == MEMBERS


def test_two_workers_started_at_once_never_run_the_same_sync_together(integration, workers):
    workers.start()
    workers.start()
    for _ in range(6):
        queue_sync(integration)
    wait_for(lambda: Task.objects.count() >= 6, 120, "six finished tasks")
    runs = list(SyncRun.objects.filter(integration=integration).order_by("started_at"))
    assert runs and all(run.status == SyncRun.Status.SUCCEEDED for run in runs)
    for earlier, later in zip(runs, runs[1:], strict=False):
        assert earlier.finished_at <= later.started_at, "two runs of one sync overlapped"
    skipped = [task.result for task in Task.objects.all() if str(task.result).startswith("skipped")]
    assert skipped, "no run was refused while another held the sync"
    assert len(set(synced_ids(integration))) == MEMBERS


def test_database_dropping_connections_midway_loses_nothing_committed(integration, workers):
    workers.start()
    queue_sync(integration)
    wait_for(lambda: SyncRun.objects.filter(pages__gte=2).exists(), 60, "two committed pages")
    with connection.cursor() as cursor:  # what a database restart does to every other session
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")
    kept = set(synced_ids(integration))
    assert kept
    time.sleep(3.5)
    queue_sync(integration)
    wait_for(lambda: SyncRun.objects.filter(status=SyncRun.Status.SUCCEEDED).exists(), 90, "a finished run")
    final = set(synced_ids(integration))
    assert kept <= final and len(final) == MEMBERS


@pytest.mark.parametrize("make", SCENARIOS, ids=lambda make: make.__name__.removesuffix("_scenario"))
def test_each_vendor_killed_midway_then_restarted_ends_like_a_clean_run(make, workers):
    """Every vendor's syncs, run by a real worker that gets SIGKILL while a vendor call
    hangs (the call halfway through a clean run's), then by a new worker: the records
    equal a clean run's."""
    scenario = make()
    scenario.setup()
    clean_fake = scenario.make_sandbox()
    fake = clean_fake.twin()  # the same records, even those seeded from the clock
    with served(clean_fake) as clean_url, served(fake) as url:
        clean = scenario.integration("clean", clean_url)
        run_until_done(clean, scenario.syncs)
        expected = scenario.snapshot(clean.source, clean_fake)
        Client.all_objects.filter(source=clean.source).delete()
        scenario.before_second()
        halfway = len(clean_fake.calls) // 2
        # That call hangs, then fails without touching the fake's state.
        fake.inject(delay=60, status=503, skip=halfway, times=1)
        integration = scenario.integration("killed", url)
        Schedule.objects.all().delete()  # the test queues the runs itself

        worker = workers.start()
        for name in scenario.syncs:
            async_task("integrations.tasks.sync_task", integration.pk, name)
            wait_for(lambda name=name: len(fake.calls) > halfway or SyncRun.objects.filter(
                integration=integration, sync_name=name, status=SyncRun.Status.SUCCEEDED).exists(),
                60, f"{name} to finish or reach the hanging call")
            if len(fake.calls) > halfway:
                break
        killed = SyncRun.objects.get(integration=integration, status=SyncRun.Status.RUNNING)
        workers.kill(worker)

        workers.start()
        time.sleep(3.5)  # the dead run's lease runs out
        for name in scenario.syncs:
            before = SyncRun.objects.filter(integration=integration, status=SyncRun.Status.SUCCEEDED).count()
            async_task("integrations.tasks.sync_task", integration.pk, name)
            wait_for(lambda before=before: SyncRun.objects.filter(
                integration=integration, status=SyncRun.Status.SUCCEEDED).count() > before, 90, f"{name} again")
        killed.refresh_from_db()
        assert killed.status == SyncRun.Status.ABANDONED
        got = scenario.snapshot(integration.source, fake)
    assert_same_records(expected, got)
