"""Gladstone Plus2 in `make demo`: an integration pointing at its sandbox."""

from integrations.demo_vendors import VendorDemo
from integrations.gladstone import sandbox

TOKEN_KEY = "q0m8m1Zr9Vt0kYJ2s3bFQyS7lC2a8HcX4wE5nR6tU1o"  # noqa: S105 - demo only


class GladstoneDemo(VendorDemo):
    order = 2
    members = 80
    url_path = "MemberWebService/"

    def settings(self, *, url):
        return ({"base_url": url, "app_name": sandbox.APP_NAME, "username": sandbox.USERNAME,
                 "active_statuses": ["LIVE", "FROZEN"], "subscription_type_groups": ["FISIK"],
                 "minimum_age": None, "notification_emails": ["ops@club.example"],
                 "validation_type": "Password", "delete_on_is_deleted": False, "system_name": "Gatehouse demo",
                 "sync_minutes": 5}, {"password": sandbox.PASSWORD, "member_token_key": TOKEN_KEY})
