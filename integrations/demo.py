"""The demo organisation `make demo` loads: locations, doors, packages, identities, clients."""

import random
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from accessctl.models import Door
from clients.credentials import client_password_set
from clients.models import Client, IdentityType, Location, LocationTier, Tag
from packages.models import Booking, ClassSession, ClientPackage, Package

DEMO_ADMIN = ("admin", "gatehouse-demo")
# The member app's demo login: a monthly membership (its "members" tag opens tagged doors)
# and 10 class credits (they pay visits through paid doors).
DEMO_MEMBER = ("demo.member@example.com", "gatehouse-member")
DEMO_MEMBER_ID = "app-member"  # its external id (source "demo")
DEMO_MEMBER_PACKAGES = ("payment_plan_24", "CLASS10")

LOCATIONS = [
    ("UB", "Uxbridge", "High Street, Uxbridge UB8 1JN", 51.5461, -0.4785, "Europe/London"),
    ("SPA", "Spa Road", "Spa Road, London SE16 3QT", 51.4960, -0.0747, "Europe/London"),
    ("MAN", "Manchester Central", "Deansgate, Manchester M3 4LQ", 53.4794, -2.2453, "Europe/London"),
    ("DUB", "Dublin Docklands", "Sir John Rogerson's Quay, Dublin 2", 53.3458, -6.2446, "Europe/Dublin"),
]
PACKAGES = [
    ("payment_plan_24", "Monthly membership", "membership", None),
    ("payment_plan_25", "Annual membership", "unlimited", None),
    ("product_26", "Towel service", "membership", None),
    ("PTPK01", "Personal training pack (tiered)", "credit_pack", 10),
    ("PTPK", "Personal training pack", "credit_pack", 10),
    ("INITIALPK", "Initial consultation", "payg", 1),
    ("CLASS10", "10 class credits", "credit_pack", 10),
    ("OFFPEAK", "Off-peak, combined limit", "combined_limit", 8),
]
FIRST = ["Alex", "Sam", "Jo", "Chris", "Priya", "Amir", "Mia", "Noah", "Zoe", "Liam", "Ava", "Ravi",
         "Ella", "Tom", "Nina", "Omar", "Leah", "Finn", "Isla", "Kai"]
LAST = ["Smith", "Jones", "Patel", "Murphy", "Khan", "Brown", "Wilson", "Taylor", "O'Neill", "Evans",
        "Walsh", "Roberts", "Hughes", "Green", "Clarke", "Byrne", "Lewis", "Ahmed", "Kelly", "Reid"]


@transaction.atomic
def demo_club_load(*, clients: int = 300, seed: int = 1) -> dict[str, int]:
    """Create (or complete) the demo organisation; running it again adds nothing twice."""
    rng = random.Random(seed)
    user_model = get_user_model()
    if not user_model.objects.filter(username=DEMO_ADMIN[0]).exists():
        user_model.objects.create_superuser(DEMO_ADMIN[0], "admin@example.com", DEMO_ADMIN[1])

    members_tag, _ = Tag.objects.get_or_create(name="members")
    Tag.objects.get_or_create(name="staff")
    locations = []
    for alt_id, name, address, lat, lng, tz in LOCATIONS:
        location, _ = Location.objects.get_or_create(
            alt_id=alt_id,
            defaults={"name": name, "address": address, "latitude": lat, "longitude": lng,
                      "time_zone": tz},
        )
        locations.append(location)
        Door.objects.get_or_create(
            door_id=alt_id, defaults={"title": f"{name} main entrance", "location": location}
        )
    for alt_id, name in [("00", "All clubs"), ("01", "Home club only"), ("02", "London clubs")]:
        tier, created = LocationTier.objects.get_or_create(alt_id=alt_id, defaults={"name": name})
        if created:
            tier.locations.set(locations if alt_id == "00" else locations[:2])
    IdentityType.objects.get_or_create(
        display_name="Perfect Gym Customer Number",
        defaults={"type": IdentityType.Kind.THIRD_PARTY_ID, "max_per_client": 1},
    )
    IdentityType.objects.get_or_create(
        display_name="Membership card",
        defaults={"type": IdentityType.Kind.MEMBERSHIP_CARD, "max_per_client": 2,
                  "min_days_between_changes": 7},
    )
    packages = []
    for alt_id, name, kind, credits in PACKAGES:
        package, created = Package.objects.get_or_create(
            alt_id=alt_id, defaults={"name": name, "kind": kind, "credits": credits}
        )
        if created and kind in ("membership", "unlimited"):
            package.tags.add(members_tag)
        packages.append(package)

    existing = Client.all_objects.filter(source="demo").exclude(external_id=DEMO_MEMBER_ID).count()
    now = timezone.now()
    new_clients = [
        Client(
            first_name=rng.choice(FIRST), last_name=rng.choice(LAST),
            email=f"member{n:05d}@example.com",
            date_of_birth=date(1960, 1, 1) + timedelta(days=rng.randrange(16000)),
            home_location=rng.choice(locations), source="demo", external_id=str(n),
            is_active=rng.random() > 0.1,
        )
        for n in range(existing, clients)
    ]
    Client.objects.bulk_create(new_clients)
    created_clients = list(Client.objects.filter(source="demo", external_id__in=[c.external_id for c in new_clients]))
    ClientPackage.objects.bulk_create(
        ClientPackage(
            client=client, package=(package := rng.choice(packages)), location=client.home_location,
            start=now - timedelta(days=rng.randrange(400)),
            credits_remaining=package.credits, source="demo",
        )
        for client in created_clients
    )
    sessions = []
    for location in locations:
        for day in range(3):
            start = datetime.combine(now.date() + timedelta(days=day), datetime.min.time(),
                                     tzinfo=location.zone).replace(hour=18)
            session, _ = ClassSession.objects.get_or_create(
                source="demo", external_id=f"{location.alt_id}-{day}",
                defaults={"name": "Evening HIIT", "location": location, "start": start,
                          "end": start + timedelta(minutes=45)},
            )
            sessions.append(session)
    Booking.objects.bulk_create(
        Booking(client=client, session=rng.choice(sessions), source="demo",
                external_id=f"b{client.external_id}")
        for client in created_clients[: len(created_clients) // 5]
    )
    demo_member_ensure(home=locations[0])
    return {"locations": len(locations), "packages": len(packages), "clients_created": len(created_clients)}


def demo_member_ensure(*, home: Location) -> Client:
    """The member the README and `make demo` give for the app (DEMO_MEMBER), with its
    packages; its password is set again every time, so the printed one always works."""
    email, password = DEMO_MEMBER
    member, created = Client.all_objects.get_or_create(
        source="demo", external_id=DEMO_MEMBER_ID,
        defaults={"first_name": "Demo", "last_name": "Member", "email": email, "home_location": home},
    )
    if created:
        for alt_id in DEMO_MEMBER_PACKAGES:
            package = Package.objects.get(alt_id=alt_id)
            ClientPackage.objects.create(client=member, package=package, location=home, source="demo",
                                         start=timezone.now() - timedelta(days=30),
                                         credits_remaining=package.credits)
    return client_password_set(client=member, password=password)
