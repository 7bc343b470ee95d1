"""Fixtures for Glofox alone: its sandbox under `responses`, an integration, a configuration."""

import pytest
from django_q.conf import Conf

from accessctl.models import KisiGroup, KisiPlace
from integrations.connectors import connector_for
from integrations.glofox.connector import GlofoxConnector
from integrations.glofox.models import GlofoxConfiguration
from integrations.glofox.sandbox import API_KEY, API_TOKEN, BRANCH_ID, UNLIMITED, GlofoxSandbox
from integrations.glofox.services import configuration_save
from integrations.sandbox.transports import mounted
from integrations.services import integration_save
from tests.factories import LocationFactory
from tests.integrations.helpers import sleeps_recorded

GLOFOX_URL = "https://glofox.test/prod/"
WEBHOOK_SECRET = "glofox-whsec-3141"


@pytest.fixture(autouse=True)
def glofox_sleeps(monkeypatch):
    """No real sleeping: pacing and Retry-After waits are recorded instead."""
    return sleeps_recorded(monkeypatch, GlofoxConnector)


@pytest.fixture
def tasks_inline(monkeypatch, django_capture_on_commit_callbacks):
    """django-q tasks run in-process, after the transaction that queued them commits."""
    monkeypatch.setattr(Conf, "SYNC", True)
    return django_capture_on_commit_callbacks


@pytest.fixture
def glofox():
    fake = GlofoxSandbox(members=0)
    with mounted((fake, GLOFOX_URL)):
        yield fake


def glofox_integration(base_url: str = GLOFOX_URL):
    return integration_save(
        kind="glofox", name="Glofox", settings={"base_url": base_url, "member_minutes": 1, "booking_minutes": 1},
        secrets={"api_key": API_KEY, "api_token": API_TOKEN, "webhook_secret": WEBHOOK_SECRET},
    )


@pytest.fixture
def integration(db):
    return glofox_integration()


@pytest.fixture
def location(db):
    return LocationFactory(name="Central", time_zone="Europe/London")


@pytest.fixture
def place(location):
    return KisiPlace.objects.create(kisi_id="77", name="Central", location=location)


@pytest.fixture
def group(db):
    return KisiGroup.objects.create(kisi_id="501", name="Glofox members")


def configure(integration, group, place, *, types=(UNLIMITED,), bookings=True, branch=BRANCH_ID):
    """A configuration saved through the service, with the branch's catalogue read from Glofox."""
    catalogue = connector_for(integration).client().memberships(branch=branch)
    return configuration_save(
        configuration=GlofoxConfiguration(integration=integration, branch_id=branch, kisi_group=group,
                                          kisi_place=place, membership_types=list(types),
                                          bookings_enabled=bookings),
        memberships=catalogue,
    )


@pytest.fixture
def configuration(glofox, integration, group, place):
    """Branch BRANCH_ID -> the group at the place; Unlimited selected; bookings enabled."""
    return configure(integration, group, place)
