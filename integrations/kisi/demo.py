"""Kisi in `make demo`: its sandbox's doors, the member app's rules on three of them, and a
member opening one now and then (a webhook)."""

import requests

from accessctl.models import Door, DoorRules, VisitType
from clients.models import Client, Tag
from integrations.demo_vendors import VendorDemo
from integrations.kisi import sandbox
from packages.models import Package

WEBHOOK_SECRET = "demo-kisi-webhook-secret"  # noqa: S105 - the demo sandbox's own
TAGGED, PAID, GEOFENCED = "Uxbridge main entrance", "Spa Road front door", "Uxbridge side gate"
MEMBERS_TAG = "members"  # the demo's membership packages give it (integrations.demo)
VISIT = ("Open gym visit", 1, ["CLASS10", "PTPK"])  # name, price in credits, packages that pay it
GEOFENCE_METRES = 300


class KisiDemo(VendorDemo):
    order = 0  # the door system first: member systems map onto its groups and places

    def __init__(self, *, fake):
        super().__init__(fake=fake)
        # A third online lock, so the app shows a tagged, a paid and a geofenced door.
        uxbridge = next(place for place in fake.places.values() if place["name"] == "Uxbridge")
        fake.lock_add(GEOFENCED, place_id=uxbridge["id"])

    def settings(self, *, url):
        return ({"base_url": url, "reconcile_minutes": 1, "events_polling": True, "events_minutes": 5},
                {"api_key": sandbox.API_KEY, "webhook_secret": WEBHOOK_SECRET})

    def ready(self, *, integration):
        """The app's door rules on the imported doors: one opened by the members tag, one paid
        with credits, one by tag within a geofence (set once; a manager's changes stay)."""
        doors = {door.title: door for door in Door.objects.filter(
            kisi_lock_id__in=[str(lock_id) for lock_id in self.fake.locks])}
        members = Tag.objects.filter(name=MEMBERS_TAG).first()
        for title, wanted in ((TAGGED, {}), (PAID, {"paid_access": True}),
                              (GEOFENCED, {"geofence": True, "geofence_radius": GEOFENCE_METRES,
                                           "geofence_unit": DoorRules.Unit.METRES})):
            door = doors.get(title)
            if door is None or members is None:
                continue
            rules, created = DoorRules.objects.get_or_create(door=door, defaults=wanted)
            if not created:
                continue
            if not rules.paid_access:
                rules.tags.add(members)
            else:
                name, price, paying = VISIT
                visit = VisitType.objects.create(door=door, name=name, price=price)
                visit.packages.set(Package.objects.filter(alt_id__in=paying))

    def traffic(self, *, integration, web_url, rng):
        kisi = self.fake
        users = {u["email"].lower(): u_id for u_id, u in kisi.users.items()}
        members = list(Client.objects.filter(email__in=list(users)).values_list("email", flat=True)[:200])
        if not (members and kisi.locks):
            return ""
        event = kisi.unlock_event(user_id=users[rng.choice(members).lower()], lock_id=next(iter(kisi.locks)))
        body, headers = kisi.webhook(WEBHOOK_SECRET, event)
        requests.post(f"{web_url}/api/v1/webhooks/kisi/{integration.pk}/", data=body,
                      headers={**headers, "Content-Type": "application/json"}, timeout=5)
        return "Kisi unlock"
