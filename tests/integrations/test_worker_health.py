"""/readyz follows a real django-q2 worker: ready while it beats, not ready once it stops."""

import subprocess
import sys
import time

import pytest
from django.utils import timezone
from django_q.models import Schedule

from tests.integrations.test_worker import worker_env

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def readyz_until(client, status: int, seconds: float) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        response = client.get("/readyz")
        if response.status_code == status or time.monotonic() > deadline:
            return {"status_code": response.status_code, **response.json()}
        time.sleep(1)


def test_readyz_follows_the_worker(client, settings):
    env = worker_env()
    # The migration's schedule, again: a transactional test's flush may have removed it.
    Schedule.objects.get_or_create(name="gatehouse:heartbeat", defaults={
        "func": "integrations.tasks.heartbeat_task", "schedule_type": Schedule.MINUTES, "minutes": 1,
        "repeats": -1, "next_run": timezone.now()})
    assert readyz_until(client, 503, 0)["checks"]["worker"] == "fail"
    worker = subprocess.Popen([sys.executable, "manage.py", "qcluster"], env=env,  # noqa: S603 - our code
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        started = readyz_until(client, 200, 75)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert started == {"status_code": 200, "status": "ok", "checks": {
        "database": "ok", "broker": "ok", "worker": "ok", "schedules": "ok"}}
    settings.HEALTH_WORKER_MAX_AGE_SECONDS = 2  # instead of waiting the default three minutes
    stopped = readyz_until(client, 503, 15)
    assert stopped["status_code"] == 503 and stopped["checks"]["worker"] == "fail"
