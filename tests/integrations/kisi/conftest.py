"""Fixtures for Kisi: its sandbox under `responses`, an integration, a small club."""

import pytest

from accessctl.models import AccessRule, KisiGroup
from integrations.kisi.connector import KisiConnector
from integrations.kisi.sandbox import API_KEY, KisiSandbox
from integrations.sandbox.transports import mounted
from integrations.services import integration_save
from integrations.sync import sync_run
from tests.factories import LocationFactory, PackageFactory
from tests.integrations.helpers import sleeps_recorded

KISI_TEST_URL = "https://kisi.test/"
KISI_WEBHOOK_SECRET = "kisi-whsec-4471-test"


@pytest.fixture(autouse=True)
def kisi_sleeps(monkeypatch):
    """No real waiting: the sleeps Kisi calls asked for are recorded here."""
    return sleeps_recorded(monkeypatch, KisiConnector)


@pytest.fixture
def kisi():
    fake = KisiSandbox(members=0)
    with mounted((fake, KISI_TEST_URL)):
        yield fake


@pytest.fixture
def kisi_integration(db):
    return integration_save(
        kind="kisi", name="Kisi", settings={"base_url": KISI_TEST_URL, "reconcile_minutes": 1,
                                            "events_polling": True, "events_minutes": 5},
        secrets={"api_key": API_KEY, "webhook_secret": KISI_WEBHOOK_SECRET},
    )


def run(integration, sync_name: str, **options):
    """Run one Kisi sync to the end and return its SyncRun."""
    return sync_run(integration=integration, sync_name=sync_name, options=options or None)


@pytest.fixture
def uxbridge(db):
    """The club location the sandbox's "Uxbridge" place maps to by name."""
    return LocationFactory(name="Uxbridge")


@pytest.fixture
def imported(kisi, kisi_integration, uxbridge):
    """Places, groups and locks imported; returns the organisation-scoped Members group."""
    run(kisi_integration, "doors")
    return KisiGroup.objects.get(name="Members")


@pytest.fixture
def membership():
    return PackageFactory(name="Monthly")


@pytest.fixture
def package_rule(imported, membership):
    """Holders of an active Monthly membership belong in the Members group."""
    rule = AccessRule.objects.create(group=imported, reason=AccessRule.Reason.PACKAGE, owner="test:config-1")
    rule.packages.set([membership])
    return rule
