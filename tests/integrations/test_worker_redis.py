"""With REDIS_URL set, tasks travel through Redis: queued there, taken from there by a real
qcluster. `.ci/run` runs the worker and reliability tests a second time with Redis; this
test shows that second pass really uses it (it is skipped on the database broker)."""

import subprocess
import sys
import time

import pytest
import redis
from django.conf import settings
from django_q.brokers import get_broker
from django_q.models import Schedule

from integrations.example.sandbox import API_KEY
from integrations.models import SyncRun
from integrations.queue import task_queue
from integrations.services import integration_save
from tests.integrations.test_worker import http_sandbox, worker_env  # noqa: F401 - the fixture

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(not settings.REDIS_URL, reason="REDIS_URL is not set: the database is the broker")]


def test_a_queued_sync_waits_in_redis_until_a_worker_takes_it(http_sandbox):  # noqa: F811
    fake, url = http_sandbox
    env = worker_env()
    broker = get_broker()
    assert type(broker).__name__ == "Redis"
    broker.purge_queue()
    integration = integration_save(kind="example", name="Through Redis", settings={"base_url": url},
                                   secrets={"api_key": API_KEY})
    Schedule.objects.filter(name__startswith=f"integration:{integration.pk}:").delete()  # only our task runs
    task_queue("integrations.tasks.sync_task", integration.pk, "members", SyncRun.Trigger.MANUAL)
    queued = redis.Redis.from_url(settings.REDIS_URL).llen(broker.list_key)
    assert queued == 1 and not SyncRun.objects.filter(integration=integration).exists()

    worker = subprocess.Popen([sys.executable, "manage.py", "qcluster"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not SyncRun.objects.filter(
                integration=integration, status=SyncRun.Status.SUCCEEDED).exists():
            time.sleep(0.5)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    run = SyncRun.objects.get(integration=integration)
    assert (run.status, run.trigger, run.created) == (SyncRun.Status.SUCCEEDED, SyncRun.Trigger.MANUAL, 12)
    assert broker.queue_size() == 0
