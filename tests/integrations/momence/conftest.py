"""Fixtures for Momence: its sandbox mounted under `responses`, an integration pointing at it."""

import pytest

from integrations.momence.connector import MomenceConnector
from integrations.momence.sandbox import CLIENT_ID, CLIENT_SECRET, PASSWORD, USERNAME, MomenceSandbox
from integrations.sandbox.transports import mounted
from integrations.services import integration_save
from integrations.sync import sync_run
from tests.factories import LocationFactory
from tests.integrations.helpers import sleeps_recorded

MOMENCE_URL = "https://api.momence.test/api/v2/"
SECRETS = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "username": USERNAME, "password": PASSWORD}


@pytest.fixture(autouse=True)
def momence_sleeps(monkeypatch):
    """The HTTP layer's sleeps (backoff, Retry-After, pacing), recorded instead of slept."""
    return sleeps_recorded(monkeypatch, MomenceConnector)


@pytest.fixture
def sandbox():
    fake = MomenceSandbox(members=0)
    with mounted((fake, MOMENCE_URL)):
        yield fake


@pytest.fixture
def location(db):
    return LocationFactory(name="Studio", time_zone="Europe/London")


@pytest.fixture
def integration(db, location):
    return integration_save(
        kind="momence", name="Momence studio", settings={"base_url": MOMENCE_URL, "location": location.pk},
        secrets=SECRETS,
    )


@pytest.fixture
def run(integration):
    """Run one Momence sync: run("members"), run("checkins", limit=...)."""

    def go(sync_name, **options):
        return sync_run(integration=integration, sync_name=sync_name, options=options)

    return go


def calls(sandbox, method: str, pattern: str) -> list:
    """The requests the sandbox received for METHOD and a path containing `pattern`."""
    return [c for c in sandbox.calls if c.method == method and pattern in c.path]


def grants(sandbox) -> list[str]:
    """grant_type of every token request, in order (refused ones included)."""
    from urllib.parse import parse_qs

    return [parse_qs(c.body.decode())["grant_type"][0] for c in calls(sandbox, "POST", "auth/token")]
