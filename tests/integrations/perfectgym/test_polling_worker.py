"""A real qcluster with its default two workers: the poller sees a Perfect Gym change and has
it synced within seconds, and gives its worker back at once when another task waits (here one
worker is kept busy by a long task, so only the poller's worker can take it)."""

import subprocess
import sys
import time

import pytest
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task

from clients.models import Client
from integrations.health import heartbeat_record
from integrations.models import SyncRun, WorkerHeartbeat
from integrations.perfectgym.sandbox import CLIENT_SECRET, PerfectGymSandbox
from integrations.polling import POLL_SCHEDULE, POLL_TASK
from integrations.sandbox.transports import served
from integrations.services import integration_save
from tests.factories import PackageFactory
from tests.integrations.perfectgym.conftest import initial, pg_settings, run
from tests.integrations.test_worker import worker_env

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def wait_for(found, seconds: float):
    """Ask `found()` every 0.2 s until it answers something true, or `seconds` pass."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        answer = found()
        if answer:
            return answer
        time.sleep(0.2)
    return None


def long_task(seconds: float) -> str:
    """A task that holds its worker: it says it started (a heartbeat), then sleeps."""
    heartbeat_record()
    time.sleep(seconds)
    return "slept"


def polled_runs(integration):
    """The member syncs the poller queued that succeeded."""
    return SyncRun.objects.filter(integration=integration, sync_name="members", trigger=SyncRun.Trigger.POLL,
                                  status=SyncRun.Status.SUCCEEDED)


def test_the_poller_syncs_a_change_and_yields_its_worker_to_a_waiting_task(customer_number, locations):
    env = worker_env()
    env.pop("Q_WORKERS")  # the default: two workers
    fake = PerfectGymSandbox(members=20, seed=5)
    with served(fake) as url:
        PackageFactory(alt_id="payment_plan_24")
        integration = integration_save(kind="perfectgym", name="PG polled", secrets={"client_secret": CLIENT_SECRET},
                                       settings=pg_settings(customer_number, base_url=url))
        initial(integration)
        run(integration, "visits")
        later = timezone.now() + timezone.timedelta(days=1)
        Schedule.objects.exclude(name=POLL_SCHEDULE).update(next_run=later)  # only the poller runs
        Schedule.objects.update_or_create(name=POLL_SCHEDULE, defaults={
            "func": POLL_TASK, "schedule_type": Schedule.MINUTES, "minutes": 1, "repeats": -1,
            "next_run": timezone.now(), "intended_date_kwarg": "intended"})
        member = next(m for m in fake.sets["Members"].rows.values() if m["homeClubId"] == 1)
        fake.member_put(member["id"], lastName="Polled")
        worker = subprocess.Popen([sys.executable, "manage.py", "qcluster"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            # django-q2's scheduler first looks after 30 s; the poller then sees the change.
            first = wait_for(lambda: polled_runs(integration).first(), 60)
            assert first is not None and first.updated == 1
            assert Client.objects.get(external_id=str(member["id"])).last_name == "Polled"

            long_queued_at = timezone.now()
            async_task(f"{__name__}.long_task", 40, task_name="a long task on the other worker")
            assert wait_for(lambda: WorkerHeartbeat.objects.filter(beat_at__gt=long_queued_at).exists(), 10), (
                "the long task did not start")
            time.sleep(1)  # the long task has a worker of its own now (any broker: database or Redis)
            queued_at = timezone.now()
            async_task("integrations.tasks.heartbeat_task", task_name="a task that must not wait")
            beat = wait_for(lambda: WorkerHeartbeat.objects.filter(beat_at__gt=queued_at).first(), 30)
            assert beat is not None, "the waiting task did not start while the long task ran"
            started_after = (beat.beat_at - queued_at).total_seconds()
            assert started_after < 5, f"the waiting task started {started_after:.1f} s after it was queued"

            # The poller came back behind it: the next change is synced while the long task still runs.
            fake.member_put(member["id"], lastName="Polled again")
            assert wait_for(lambda: Client.objects.filter(external_id=str(member["id"]),
                                                          last_name="Polled again").exists(), 15)
            assert polled_runs(integration).count() == 2
            assert SyncRun.objects.filter(trigger=SyncRun.Trigger.POLL).count() == 2  # nothing else changed
        finally:
            worker.terminate()  # it lets the long task end first
            try:
                worker.wait(timeout=60)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
