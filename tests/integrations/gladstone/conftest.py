"""Fixtures for Gladstone: its sandbox under `responses`, a club, an integration."""

from datetime import date

import pytest

from accessctl.models import Door
from clients.models import Location, LocationTier
from integrations.gladstone.connector import GladstoneConnector
from integrations.gladstone.sandbox import APP_NAME, PASSWORD, USERNAME, GladstoneSandbox
from integrations.models import SyncRun
from integrations.sandbox.transports import mounted
from integrations.services import integration_save
from integrations.sync import sync_run
from packages.models import Package
from tests.integrations.helpers import sleeps_recorded

GLADSTONE_URL = "https://gladstone.test/MemberWebService/"
TOKEN_KEY = "q0m8m1Zr9Vt0kYJ2s3bFQyS7lC2a8HcX4wE5nR6tU1o"  # 32 bytes, base64url
SETTINGS = {
    "base_url": GLADSTONE_URL,
    "app_name": APP_NAME,
    "username": USERNAME,
    "active_statuses": ["LIVE", "FROZEN"],
    "subscription_type_groups": ["FISIK"],
    "minimum_age": None,
    "notification_emails": ["ops@club.example", "pt-lead@club.example"],
    "validation_type": "Password",
    "delete_on_is_deleted": False,
    "system_name": "Gatehouse",
    "sync_minutes": 5,
}


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The admin user's password hash is not what these tests are about."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    return sleeps_recorded(monkeypatch, GladstoneConnector)


@pytest.fixture
def gladstone():
    """An empty Gladstone (tests add the members they need), answering under `responses`."""
    fake = GladstoneSandbox(members=0)
    with mounted((fake, GLADSTONE_URL)):
        yield fake


@pytest.fixture
def club(db):
    """Two sites (Location alt id = SiteID) with a door each, the seed's packages, two tiers."""
    uxbridge = Location.objects.create(name="Uxbridge", alt_id="UB", time_zone="Europe/London")
    spa = Location.objects.create(name="Spa Road", alt_id="SPA", time_zone="Europe/London")
    Door.objects.create(title="Uxbridge entrance", door_id="UB", location=uxbridge)
    Door.objects.create(title="Spa Road entrance", door_id="SPA", location=spa)
    for alt_id in ("PTPK", "PTPK01", "INITIALPK"):
        Package.objects.create(alt_id=alt_id, name=f"Package {alt_id}")
    for alt_id in ("01", "02"):
        LocationTier.objects.create(alt_id=alt_id, name=f"Tier {alt_id}")
    return {"UB": uxbridge, "SPA": spa}


def make_integration(name="Gladstone", *, is_active=True, **overrides):
    return integration_save(
        kind="gladstone",
        name=name,
        is_active=is_active,
        settings={**SETTINGS, **overrides},
        secrets={"password": PASSWORD, "member_token_key": TOKEN_KEY},
    )


@pytest.fixture
def integration(club):
    return make_integration()


def sync(integration, name="members") -> SyncRun:
    run = sync_run(integration=integration, sync_name=name)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    return run


def add_member(gladstone, **fields) -> int:
    """A live adult member at UB unless told otherwise."""
    values = {
        "forename": "Ada",
        "surname": "Lovelace",
        "email": "ada@example.com",
        "dob": date(1990, 5, 1),
        "site_id": "UB",
        "status_id": "LIVE",
        **fields,
    }
    return gladstone.member_put(**values)

