"""A real django-q2 worker runs the schedule an integration's settings created."""

import os
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import connection

from clients.models import Client
from integrations.example.sandbox import API_KEY, ExampleSandbox
from integrations.models import SyncRun
from integrations.sandbox.transports import served
from integrations.services import integration_save

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def http_sandbox():
    fake = ExampleSandbox(members=12)
    with served(fake) as url:
        yield fake, url


def worker_env() -> dict[str, str]:
    db = connection.settings_dict
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("the worker needs a database another process can see (PostgreSQL)")
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "INTEGRATION_CONNECTORS": ",".join(settings.INTEGRATION_CONNECTORS),
        "Q_WORKERS": "1",
    })
    return env


def test_schedule_from_settings_is_run_by_a_real_qcluster(http_sandbox):
    fake, url = http_sandbox
    env = worker_env()
    integration = integration_save(
        kind="example", name="Scheduled", settings={"base_url": url, "member_minutes": 1},
        secrets={"api_key": API_KEY},
    )
    worker = subprocess.Popen([sys.executable, "manage.py", "qcluster"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 75
        while time.monotonic() < deadline:
            run = SyncRun.objects.filter(integration=integration, status=SyncRun.Status.SUCCEEDED).first()
            if run:
                break
            time.sleep(1)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert run is not None, "the worker did not run the scheduled sync within 75 s"
    assert run.trigger == SyncRun.Trigger.SCHEDULE and run.created == 12
    assert Client.objects.filter(source=integration.source).count() == 12
    assert any(call.path == "members" for call in fake.calls)  # real HTTP reached the sandbox


def test_a_large_initial_sync_forks_its_vendor_calls_inside_a_real_qcluster(tmp_path):
    """A django-q2 worker is a daemonic process; a run's forked callers work from it too,
    and end with the run."""
    from accessctl.models import Door
    from clients.models import Location
    from integrations.gladstone.sandbox import PASSWORD, GladstoneSandbox
    from integrations.queue import task_queue
    from tests.integrations.gladstone.conftest import SETTINGS, TOKEN_KEY, add_member

    env = {**worker_env(), "VENDOR_CALL_PROCESSES": "2", "VENDOR_CALLS_PER_PROCESS": "10", "LOG_LEVEL": "INFO"}
    location = Location.objects.create(name="Uxbridge", alt_id="UB", time_zone="Europe/London")
    Door.objects.create(title="Uxbridge entrance", door_id="UB", location=location)
    sandbox = GladstoneSandbox(members=0)
    members = [add_member(sandbox, forename=f"M{n}", email=f"m{n}@example.com") for n in range(40)]
    log = tmp_path / "qcluster.log"
    with served(sandbox) as url, log.open("w") as out:
        integration = integration_save(kind="gladstone", name="Gladstone", settings={**SETTINGS, "base_url": url},
                                       secrets={"password": PASSWORD, "member_token_key": TOKEN_KEY})
        task_queue("integrations.tasks.initial_sync_task", integration.pk, {"initial": True})
        worker = subprocess.Popen([sys.executable, "manage.py", "qcluster"], env=env, stdout=out, stderr=out)
        try:
            deadline = time.monotonic() + 75
            while time.monotonic() < deadline and Client.objects.filter(source=integration.source).count() < 40:
                time.sleep(0.5)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    assert sorted(Client.objects.filter(source=integration.source).values_list("external_id", flat=True)) \
        == sorted(str(m) for m in members)
    assert "vendor calls in 2 processes" in log.read_text()
