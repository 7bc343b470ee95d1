"""Perfect Gym in `make demo`: its sandbox's clubs on the demo locations, and a visit now and
then (its webhook wakes the visits sync)."""

from clients.models import IdentityType, Location
from integrations.demo_vendors import VendorDemo
from integrations.perfectgym import sandbox
from integrations.story import webhook_path

CLUBS = {"UB": 1, "SPA": 2, "MAN": 3, "DUB": 4}  # demo location alt id -> the sandbox's club id


class PerfectGymDemo(VendorDemo):
    order = 1
    members = 120

    def settings(self, *, url):
        for alt_id, club in CLUBS.items():
            location = Location.objects.filter(alt_id=alt_id).first()
            if location is not None:
                location.integration_numbers = {**location.integration_numbers, "perfectgym_club": str(club)}
                location.save(update_fields=["integration_numbers"])
        identity, _ = IdentityType.objects.get_or_create(display_name="Perfect Gym Customer Number")
        return ({"base_url": url, "client_id": sandbox.CLIENT_ID, "identity_type": identity.pk,
                 "sync_members": True, "member_minutes": 1, "sync_swipes": True, "swipe_minutes": 1,
                 "attendance_minutes": 30}, {"client_secret": sandbox.CLIENT_SECRET})

    def traffic(self, *, integration, web_url, rng):
        member_ids = list(self.fake.sets["Members"].rows)[:50]
        if not member_ids:
            return ""
        visit = self.fake.visit_add(member_id=rng.choice(member_ids), club_id=rng.choice([1, 2]))
        if path := webhook_path(integration):
            self.fake.webhook_send(f"{web_url}{path}", "UserPresenceChanged", memberId=visit["memberId"])
        return "Perfect Gym visit"
