"""Fixtures for the Perfect Gym tests: the sandbox under `responses`, locations with club
numbers and doors, the customer-number identity, and the integration."""

import pytest

from accessctl.models import Door
from clients.models import IdentityType, Location
from integrations.perfectgym.connector import PerfectGymConnector
from integrations.perfectgym.sandbox import CLIENT_ID, CLIENT_SECRET, PerfectGymSandbox
from integrations.sandbox.transports import mounted
from integrations.services import integration_save
from integrations.sync import sync_run
from tests.factories import PackageFactory
from tests.integrations.helpers import sleeps_recorded

PG_URL = "https://club.perfectgym.test/Api/v2.2/"
CLUB_LOCATIONS = {1: "UB", 2: "SPA", 3: "MAN", 4: "DUB"}  # club 9 (head office) has no Location


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    return sleeps_recorded(monkeypatch, PerfectGymConnector)


@pytest.fixture
def page_per_commit(monkeypatch):
    """Commit every vendor page on its own (the syncs group them by 5,000 rows)."""
    monkeypatch.setattr("integrations.perfectgym.syncs.ROWS_PER_COMMIT", 1)


@pytest.fixture
def sandbox():
    fake = PerfectGymSandbox(members=40, seed=3, base_url=PG_URL)
    with mounted((fake, PG_URL)):
        yield fake


@pytest.fixture
def locations(db):
    made = {}
    for club, alt_id in CLUB_LOCATIONS.items():
        location = Location.objects.create(name=f"Club {alt_id}", alt_id=alt_id,
                                           integration_numbers={"perfectgym_club": str(club)})
        Door.objects.create(title=f"{alt_id} entrance", door_id=f"door-{alt_id}", location=location)
        made[club] = location
    return made


@pytest.fixture
def customer_number(db):
    return IdentityType.objects.create(display_name="Perfect Gym Customer Number", max_per_client=1)


def pg_settings(identity_type, **changes):
    return {"base_url": PG_URL, "client_id": CLIENT_ID, "identity_type": identity_type.pk,
            "create_identity_type": False, "sync_members": True, "member_minutes": 10,
            "sync_swipes": True, "swipe_minutes": 5, "attendance_minutes": 30, **changes}


@pytest.fixture
def integration(db, customer_number, locations):
    return integration_save(kind="perfectgym", name="Perfect Gym", settings=pg_settings(customer_number),
                            secrets={"client_secret": CLIENT_SECRET})


def run(integration, sync_name, **options):
    """Run one sync of the integration and return its SyncRun."""
    return sync_run(integration=integration, sync_name=sync_name, options=options)


def initial(integration, location=None):
    """What "Perform initial sync" runs: members, contracts, member products, in order."""
    options = {"initial": True, **({"location": location} if location else {})}
    return [run(integration, name, **options) for name in ("members", "contracts", "member_products")]



@pytest.fixture
def synced(sandbox, integration):
    """The sandbox's club read in full: every package its contracts and products name, the
    initial syncs and the visits."""
    for alt_id in ("payment_plan_24", "payment_plan_25", "payment_plan_31", "product_26", "product_27"):
        PackageFactory(alt_id=alt_id)
    initial(integration)
    run(integration, "visits")
    return integration
