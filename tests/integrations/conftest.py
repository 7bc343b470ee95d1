"""Fixtures for the framework tests: the example vendor, its sandbox and integration."""

import os

import pytest

from integrations import fetching
from integrations.example.connector import ExampleConnector
from integrations.example.sandbox import API_KEY, ExampleSandbox
from integrations.sandbox.transports import mounted
from integrations.services import integration_save
from tests.integrations.helpers import sleeps_recorded

EXAMPLE_URL = "https://example.test/api/"
WEBHOOK_SECRET = "whsec-example-7781"


@pytest.fixture(autouse=True)
def example_connector(monkeypatch):
    """The example vendor (registered by default) with its HTTP waits recorded, not slept."""
    return sleeps_recorded(monkeypatch, ExampleConnector)


@pytest.fixture
def sandbox():
    fake = ExampleSandbox(members=5)
    with mounted((fake, EXAMPLE_URL)):
        yield fake


@pytest.fixture
def integration(db):
    return integration_save(
        kind="example", name="Example club", settings={"base_url": EXAMPLE_URL, "member_minutes": 5},
        secrets={"api_key": API_KEY, "webhook_secret": WEBHOOK_SECRET},
    )


@pytest.fixture
def schedules_on_time(db):
    """The migrations' schedules (heartbeat, alerts, housekeeping) as a running scheduler keeps
    them: due now, not as old as the test database (readiness counts a late one)."""
    from django.utils import timezone
    from django_q.models import Schedule

    Schedule.objects.exclude(repeats=0).update(next_run=timezone.now())


@pytest.fixture
def forked(settings, monkeypatch) -> list[int]:
    """Runs of 20 vendor calls or more make them in two processes (integrations.fetching.Forks),
        this one and one forked: the pids forked, as they are. For tests over real HTTP (a
        sandbox `served` from this process), which the forked process reaches too."""
    settings.VENDOR_CALL_PROCESSES, settings.VENDOR_CALLS_PER_PROCESS = 2, 10
    pids: list[int] = []
    fork = os.fork

    def counted() -> int:
        pid = fork()
        if pid:
            pids.append(pid)
        return pid

    monkeypatch.setattr(fetching.os, "fork", counted)
    return pids
