"""Kisi in `make demo`: its sandbox's doors, and a member opening one now and then (a webhook)."""

import requests

from clients.models import Client
from integrations.demo_vendors import VendorDemo
from integrations.kisi import sandbox

WEBHOOK_SECRET = "demo-kisi-webhook-secret"  # noqa: S105 - the demo sandbox's own


class KisiDemo(VendorDemo):
    order = 0  # the door system first: member systems map onto its groups and places

    def settings(self, *, url):
        return ({"base_url": url, "reconcile_minutes": 1, "events_polling": True, "events_minutes": 5},
                {"api_key": sandbox.API_KEY, "webhook_secret": WEBHOOK_SECRET})

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
