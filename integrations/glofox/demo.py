"""Glofox in `make demo`: its branch mapped onto Kisi's doors, and a booking now and then (a webhook)."""

from datetime import UTC, datetime, timedelta

from accessctl.models import KisiGroup, KisiPlace
from integrations.connectors import connector_for
from integrations.demo_vendors import VendorDemo
from integrations.glofox import sandbox
from integrations.glofox.models import GlofoxConfiguration
from integrations.glofox.sandbox import BRANCH_ID, CLASSES, UNLIMITED
from integrations.glofox.services import configuration_save

WEBHOOK_SECRET = "demo-glofox-webhook-secret"  # noqa: S105 - the demo sandbox's own


class GlofoxDemo(VendorDemo):
    order = 3
    members = 60

    def settings(self, *, url):
        return ({"base_url": url, "member_minutes": 1, "booking_minutes": 1},
                {"api_key": sandbox.API_KEY, "api_token": sandbox.API_TOKEN, "webhook_secret": WEBHOOK_SECRET})

    def prepare(self, *, integration):
        """Map the branch onto Kisi's "Members" group and "Uxbridge" place (imported by Kisi's syncs)."""
        group = KisiGroup.objects.filter(name="Members").first()
        place = KisiPlace.objects.filter(name="Uxbridge").first()
        if group is None or place is None or place.location_id is None:
            return
        configuration = GlofoxConfiguration.objects.filter(integration=integration, branch_id=BRANCH_ID).first() \
            or GlofoxConfiguration(integration=integration, branch_id=BRANCH_ID, kisi_group=group, kisi_place=place)
        configuration.membership_types, configuration.bookings_enabled = [UNLIMITED, CLASSES], True
        memberships = connector_for(integration).client().memberships(branch=BRANCH_ID)
        configuration_save(configuration=configuration, memberships=memberships)

    def traffic(self, *, integration, web_url, rng):
        branch, members = next(iter(self.fake.members.items()))
        if not members:
            return ""
        member_id = rng.choice(list(members))
        start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=rng.choice([29, 45, 90]))
        self.fake.booking_add(member_id, start=start)
        self.fake.webhook_send(f"{web_url}/api/v1/webhooks/glofox/{integration.pk}/",
                               WEBHOOK_SECRET, "BOOKING_CREATED", {"user_id": member_id}, branch=branch)
        return "Glofox booking"
