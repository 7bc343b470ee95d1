"""One reliability scenario per vendor: how to build its fake, its integration, and a
snapshot of what its syncs produced, so a faulty run can be compared with a clean one."""

from collections.abc import Callable
from dataclasses import dataclass, field

from accessctl.models import DoorAccess, DoorSystemUser
from clients.models import Client
from integrations.models import Integration
from integrations.services import integration_save
from packages.models import Booking, ClientPackage


@dataclass
class Scenario:
    name: str
    kind: str
    make_sandbox: Callable[[], object]  # a fresh fake with the same seeded data every time
    settings: Callable[[str], dict]  # base URL -> settings
    secrets: dict
    syncs: list[str]
    setup: Callable[[], None] = field(default=lambda: None)  # club records the vendor needs
    configure: Callable[[Integration], None] = field(default=lambda integration: None)  # after it exists
    # What else the syncs produced, in Gatehouse or (for a door system) at the vendor's fake.
    extra_snapshot: Callable[[str, object], object] = field(default=lambda source, fake: None)
    before_second: Callable[[], None] = field(default=lambda: None)  # between the clean and the faulty run

    def integration(self, name: str, base_url: str) -> Integration:
        made = integration_save(kind=self.kind, name=name, settings=self.settings(base_url), secrets=self.secrets)
        self.configure(made)
        return made

    def snapshot(self, source: str, fake=None) -> dict:
        """What the syncs of `source` produced, without ids that differ between runs."""
        clients = sorted((*row[:-1], row[-1] is None) for row in Client.all_objects.filter(source=source)
                         .values_list("external_id", "first_name", "last_name", "email", "date_of_birth",
                                      "is_active", "alt_id", "deleted_at"))
        packages = sorted(ClientPackage.objects.filter(source=source).values_list(
            "alt_id", "client__external_id", "package__alt_id", "status", "start", "end", "credits_remaining"))
        return {"clients": clients, "packages": packages, "extra": self.extra_snapshot(source, fake)}


def example_scenario() -> Scenario:
    from integrations.example.sandbox import API_KEY, ExampleSandbox

    return Scenario(
        name="example", kind="example", make_sandbox=lambda: ExampleSandbox(members=300, seed=7),
        settings=lambda url: {"base_url": url, "member_minutes": 5}, secrets={"api_key": API_KEY},
        syncs=["members"],
    )


def _perfectgym_club() -> None:
    from accessctl.models import Door
    from clients.models import IdentityType, Location
    from packages.models import Package

    for club, alt_id in {1: "UB", 2: "SPA", 3: "MAN", 4: "DUB"}.items():
        location = Location.objects.create(name=f"Club {alt_id}", alt_id=alt_id,
                                           integration_numbers={"perfectgym_club": str(club)})
        Door.objects.create(title=f"{alt_id} entrance", door_id=f"door-{alt_id}", location=location)
    Package.objects.bulk_create(Package(alt_id=alt_id, name=alt_id) for alt_id in
                                ("payment_plan_24", "payment_plan_25", "product_26", "product_27"))
    IdentityType.objects.create(display_name="Perfect Gym Customer Number")


def perfectgym_scenario() -> Scenario:
    from clients.models import IdentityType
    from integrations.perfectgym.sandbox import CLIENT_ID, CLIENT_SECRET, PerfectGymSandbox

    return Scenario(
        name="perfectgym", kind="perfectgym", setup=_perfectgym_club,
        make_sandbox=lambda: PerfectGymSandbox(members=150, seed=4),
        settings=lambda url: {"base_url": url, "client_id": CLIENT_ID, "create_identity_type": False,
                              "identity_type": IdentityType.objects.get().pk, "sync_members": True,
                              "member_minutes": 10, "sync_swipes": True, "swipe_minutes": 5,
                              "attendance_minutes": 30},
        secrets={"client_secret": CLIENT_SECRET},
        syncs=["members", "contracts", "member_products", "visits"],
        extra_snapshot=lambda source, fake: sorted(DoorAccess.objects.filter(source=source).values_list(
            "source_ref", "client__external_id", "door__door_id", "accessed_at")),
    )


def _gladstone_club() -> None:
    from accessctl.models import Door
    from clients.models import Location, LocationTier
    from packages.models import Package

    for alt_id in ("UB", "SPA", "MAN", "DUB"):
        location = Location.objects.create(name=f"Site {alt_id}", alt_id=alt_id)
        Door.objects.create(title=f"{alt_id} entrance", door_id=alt_id, location=location)
    Package.objects.bulk_create(Package(alt_id=alt_id, name=alt_id) for alt_id in ("PTPK", "PTPK01", "INITIALPK"))
    LocationTier.objects.bulk_create(LocationTier(alt_id=alt_id, name=alt_id) for alt_id in ("01", "02"))


def gladstone_scenario() -> Scenario:
    from integrations.gladstone.sandbox import APP_NAME, PASSWORD, USERNAME, GladstoneSandbox

    return Scenario(
        name="gladstone", kind="gladstone", setup=_gladstone_club,
        make_sandbox=lambda: GladstoneSandbox(members=120, seed=4),
        settings=lambda url: {"base_url": url, "app_name": APP_NAME, "username": USERNAME,
                              "active_statuses": ["LIVE", "FROZEN"], "subscription_type_groups": ["FISIK"],
                              "minimum_age": None, "notification_emails": [], "validation_type": "Password",
                              "delete_on_is_deleted": False, "system_name": "Gatehouse", "sync_minutes": 5},
        secrets={"password": PASSWORD},
        syncs=["members"],
    )


def momence_scenario() -> Scenario:
    from clients.models import Location
    from integrations.momence.sandbox import CLIENT_ID, CLIENT_SECRET, PASSWORD, USERNAME, MomenceSandbox

    return Scenario(
        name="momence", kind="momence",
        setup=lambda: Location.objects.create(name="Studio", alt_id="STUDIO"),
        make_sandbox=lambda: MomenceSandbox(members=80, seed=4),
        settings=lambda url: {"base_url": url, "location": Location.objects.get(alt_id="STUDIO").pk},
        secrets={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "username": USERNAME,
                 "password": PASSWORD},
        syncs=["tags", "members", "memberships", "bought-memberships"],
    )


def _glofox_configure(integration) -> None:
    from accessctl.models import KisiGroup, KisiPlace
    from clients.models import Location
    from integrations.connectors import connector_for
    from integrations.glofox.models import GlofoxConfiguration
    from integrations.glofox.sandbox import BRANCH_ID, CLASSES, UNLIMITED
    from integrations.glofox.services import configuration_save

    location, _ = Location.objects.get_or_create(alt_id="CENTRAL", defaults={"name": "Central"})
    place, _ = KisiPlace.objects.get_or_create(kisi_id="77", defaults={"name": "Central", "location": location})
    group, _ = KisiGroup.objects.get_or_create(kisi_id="501", defaults={"name": "Glofox members"})
    configuration_save(
        configuration=GlofoxConfiguration(integration=integration, branch_id=BRANCH_ID, kisi_group=group,
                                          kisi_place=place, membership_types=[UNLIMITED, CLASSES],
                                          bookings_enabled=True),
        memberships=connector_for(integration).client().memberships(branch=BRANCH_ID),
    )


def glofox_scenario() -> Scenario:
    from integrations.glofox.models import GlofoxConfiguration
    from integrations.glofox.sandbox import API_KEY, API_TOKEN, GlofoxSandbox
    from integrations.models import Integration as IntegrationModel

    def clear_previous() -> None:  # one Glofox integration per organisation: the clean run's goes first
        GlofoxConfiguration.objects.all().delete()
        IntegrationModel.objects.filter(kind="glofox").delete()

    return Scenario(
        name="glofox", kind="glofox", make_sandbox=lambda: GlofoxSandbox(members=120, seed=4),
        settings=lambda url: {"base_url": url, "member_minutes": 1, "booking_minutes": 1},
        secrets={"api_key": API_KEY, "api_token": API_TOKEN}, syncs=["members", "bookings"],
        configure=_glofox_configure, before_second=clear_previous,
        # Booking ids are minted by the fake as it is read, so compare what the bookings are.
        extra_snapshot=lambda source, fake: sorted(Booking.objects.filter(source=source).values_list(
            "client__external_id", "status", "session__start", "session__end")),
    )


KISI_USERS_BEFORE = 8  # users the organisation had before Gatehouse: found by email, never recreated


def _kisi_club() -> None:
    """Kisi reconciles what Gatehouse computes: clients with a Monthly membership (some of
    them already Kisi users), some whose membership ended, and some with none."""
    from datetime import timedelta

    from django.utils import timezone

    from clients.models import Location
    from packages.models import Package

    home = Location.objects.create(name="Uxbridge", alt_id="UB")  # the "Uxbridge" place maps here by name
    monthly = Package.objects.create(alt_id="MONTHLY", name="Monthly")
    today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    for n in range(60):
        email = f"member{n:05d}@example.com" if n < KISI_USERS_BEFORE else f"client{n}@example.com"
        client = Client.objects.create(first_name=f"Client{n}", last_name="Kisi", email=email,
                                       home_location=home if n % 3 == 0 else None)
        if n % 4 != 3:  # three in four hold the membership; one in six of those has lapsed
            ClientPackage.objects.create(client=client, package=monthly, start=today - timedelta(days=40),
                                         end=today + timedelta(days=-2 if n % 6 == 0 else 20 + n))


def _kisi_configure(integration) -> None:
    """The places, groups and locks, then the rule: Monthly holders are in "Members"."""
    from accessctl.models import AccessRule, KisiGroup
    from integrations.sync import sync_run
    from packages.models import Package

    sync_run(integration=integration, sync_name="doors")
    rule, _ = AccessRule.objects.get_or_create(group=KisiGroup.objects.get(name="Members"),
                                               reason=AccessRule.Reason.PACKAGE, owner="reliability")
    rule.packages.set([Package.objects.get(alt_id="MONTHLY")])


def _kisi_sandbox(unlocks_at: str):
    from integrations.kisi.sandbox import KisiSandbox

    fake = KisiSandbox(members=KISI_USERS_BEFORE, seed=4)
    members, = (g for g in fake.groups.values() if g["name"] == "Members")
    entrance, = (lock for lock in fake.locks.values() if lock["name"] == "Uxbridge main entrance")
    users = sorted(fake.users)
    fake.assignment_add(user_id=users[3], group_id=members["id"])  # member 3 has no membership: removed
    fake.assignment_add(user_id=users[1], group_id=members["id"], role_id="group_manager")  # not ours: kept
    for user_id in users[:5]:
        fake.unlock_event(user_id=user_id, lock_id=entrance["id"], at=unlocks_at)
    return fake


def _kisi_snapshot(source: str, fake) -> dict:
    """Kisi's own state (users, role assignments) and Gatehouse's links and door accesses,
    by email and name: ids differ between the two fakes when calls arrive in another order."""
    email_of = {str(user_id): user["email"] for user_id, user in fake.users.items()}
    group_of = {group_id: group["name"] for group_id, group in fake.groups.items()}
    return {
        "kisi users": sorted((u["email"], u["name"], u.get("send_emails")) for u in fake.users.values()),
        "kisi roles": sorted((email_of[str(a["user_id"])], group_of[a["group_id"]], a["role_id"],
                              a["valid_from"], a["valid_until"]) for a in fake.assignments.values()),
        "links": sorted((client_email, email_of.get(external_id)) for client_email, external_id in
                        DoorSystemUser.objects.filter(system=source).values_list("client__email", "external_id")),
        "door accesses": sorted(DoorAccess.objects.filter(source=source).values_list(
            "source_ref", "client__email", "door__title", "accessed_at")),
    }


def kisi_scenario() -> Scenario:
    from datetime import UTC, datetime, timedelta

    from integrations.kisi.sandbox import API_KEY

    unlocks_at = (datetime.now(UTC) - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return Scenario(
        name="kisi", kind="kisi", setup=_kisi_club, make_sandbox=lambda: _kisi_sandbox(unlocks_at),
        settings=lambda url: {"base_url": url, "reconcile_minutes": 1, "events_polling": True,
                              "events_minutes": 5},
        secrets={"api_key": API_KEY}, syncs=["doors", "access", "events"],
        configure=_kisi_configure, extra_snapshot=_kisi_snapshot,
    )


SCENARIOS: list[Callable[[], Scenario]] = [example_scenario, perfectgym_scenario, gladstone_scenario,
                                           momence_scenario, glofox_scenario, kisi_scenario]
