"""Momence in `make demo`: an integration for the Spa location pointing at its sandbox."""

from clients.models import Location
from integrations.demo_vendors import VendorDemo
from integrations.momence import sandbox


class MomenceDemo(VendorDemo):
    order = 4
    members = 40

    def settings(self, *, url):
        return ({"base_url": url, "location": Location.objects.get(alt_id="SPA").pk, "members_minutes": 15,
                 "sessions_minutes": 15, "days_ahead": 14, "memberships_per_run": 200, "checkin_minutes_before": 60,
                 "push_tags": True, "check_in": True},
                {"client_id": sandbox.CLIENT_ID, "client_secret": sandbox.CLIENT_SECRET,
                 "username": sandbox.USERNAME, "password": sandbox.PASSWORD})
