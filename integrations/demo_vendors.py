"""The demo's vendors: every sandbox served on 127.0.0.1, one integration per vendor
pointing at it, their initial syncs, and a little traffic so the staff pages move."""

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import requests
from django.db import transaction
from django.utils.module_loading import import_string

from accessctl.models import KisiGroup, KisiPlace
from clients.models import Client, IdentityType, Location
from integrations.connectors import connector_class
from integrations.models import Integration, SyncRun
from integrations.sandbox.transports import serve
from integrations.services import integration_save
from integrations.sync import sync_run

KISI_WEBHOOK_SECRET = "demo-kisi-webhook-secret"  # noqa: S105 - the demo sandbox's own
GLOFOX_WEBHOOK_SECRET = "demo-glofox-webhook-secret"  # noqa: S105
GLADSTONE_TOKEN_KEY = "q0m8m1Zr9Vt0kYJ2s3bFQyS7lC2a8HcX4wE5nR6tU1o"  # noqa: S105 - demo only
PERFECTGYM_CLUBS = {"UB": 1, "SPA": 2, "MAN": 3, "DUB": 4}
ORDER = ["kisi", "perfectgym", "gladstone", "glofox", "momence"]  # Kisi first: Glofox maps onto its groups
MEMBERS = {"kisi": 0, "perfectgym": 120, "gladstone": 80, "glofox": 60, "momence": 40}


@dataclass
class RunningSandbox:
    kind: str
    fake: object
    server: object
    url: str


def demo_sandboxes_start(*, base_port: int) -> dict[str, RunningSandbox]:
    """Serve every vendor's sandbox in this process, on base_port, base_port + 1, ..."""
    running = {}
    for offset, kind in enumerate(ORDER):
        fake = import_string(connector_class(kind).sandbox)(members=MEMBERS[kind], seed=1)
        port = base_port + offset
        path = "MemberWebService/" if kind == "gladstone" else ""
        running[kind] = RunningSandbox(kind, fake, serve(fake, port=port), f"http://127.0.0.1:{port}/{path}")
    return running


def _settings(kind: str, url: str) -> tuple[dict, dict]:
    """(settings, secrets) of the demo integration of `kind`, from its sandbox's own constants."""
    sandbox = import_string(connector_class(kind).sandbox.rsplit(".", 1)[0])
    if kind == "kisi":
        return ({"base_url": url, "reconcile_minutes": 1, "events_polling": True, "events_minutes": 5},
                {"api_key": sandbox.API_KEY, "webhook_secret": KISI_WEBHOOK_SECRET})
    if kind == "perfectgym":
        identity, _ = IdentityType.objects.get_or_create(display_name="Perfect Gym Customer Number")
        return ({"base_url": url, "client_id": sandbox.CLIENT_ID, "identity_type": identity.pk,
                 "sync_members": True, "member_minutes": 10, "sync_swipes": True, "swipe_minutes": 1,
                 "attendance_minutes": 30}, {"client_secret": sandbox.CLIENT_SECRET})
    if kind == "gladstone":
        return ({"base_url": url, "app_name": sandbox.APP_NAME, "username": sandbox.USERNAME,
                 "active_statuses": ["LIVE", "FROZEN"], "subscription_type_groups": ["FISIK"],
                 "minimum_age": None, "notification_emails": ["ops@club.example"],
                 "validation_type": "Password", "delete_on_is_deleted": False, "system_name": "Gatehouse demo",
                 "sync_minutes": 5}, {"password": sandbox.PASSWORD, "member_token_key": GLADSTONE_TOKEN_KEY})
    if kind == "glofox":
        return ({"base_url": url, "member_minutes": 1, "booking_minutes": 1},
                {"api_key": sandbox.API_KEY, "api_token": sandbox.API_TOKEN, "webhook_secret": GLOFOX_WEBHOOK_SECRET})
    return ({"base_url": url, "location": Location.objects.get(alt_id="SPA").pk, "members_minutes": 15,
             "sessions_minutes": 15, "days_ahead": 14, "memberships_per_run": 200, "checkin_minutes_before": 60,
             "push_tags": True, "check_in": True},
            {"client_id": sandbox.CLIENT_ID, "client_secret": sandbox.CLIENT_SECRET,
             "username": sandbox.USERNAME, "password": sandbox.PASSWORD})


@transaction.atomic
def demo_integrations_ensure(*, sandboxes: dict[str, RunningSandbox]) -> dict[str, Integration]:
    """One integration per vendor pointing at its sandbox (created once, re-pointed after)."""
    for alt_id, club in PERFECTGYM_CLUBS.items():
        location = Location.objects.filter(alt_id=alt_id).first()
        if location is not None:
            location.integration_numbers = {**location.integration_numbers, "perfectgym_club": str(club)}
            location.save(update_fields=["integration_numbers"])
    made = {}
    for kind in ORDER:
        settings, secrets = _settings(kind, sandboxes[kind].url)
        name = f"{connector_class(kind).label} (sandbox)"
        existing = Integration.objects.filter(kind=kind).first()
        made[kind] = integration_save(integration=existing, kind=kind, name=name, settings=settings,
                                      secrets=secrets)
    return made


def demo_glofox_configure(*, glofox: Integration) -> None:
    """Map the Glofox branch onto Kisi's "Members" group and "Uxbridge" place (after the doors import)."""
    from integrations.glofox.models import GlofoxConfiguration
    from integrations.glofox.sandbox import BRANCH_ID, CLASSES, UNLIMITED
    from integrations.glofox.services import configuration_save

    group, place = KisiGroup.objects.filter(name="Members").first(), KisiPlace.objects.filter(name="Uxbridge").first()
    if group is None or place is None or place.location_id is None:
        return
    configuration = GlofoxConfiguration.objects.filter(integration=glofox, branch_id=BRANCH_ID).first() \
        or GlofoxConfiguration(integration=glofox, branch_id=BRANCH_ID, kisi_group=group, kisi_place=place)
    configuration.membership_types, configuration.bookings_enabled = [UNLIMITED, CLASSES], True
    memberships = connector_class("glofox")(glofox).client().memberships(branch=BRANCH_ID)
    configuration_save(configuration=configuration, memberships=memberships)


def demo_initial_syncs(*, integrations: dict[str, Integration], echo) -> None:
    """Each integration's initial syncs, then Kisi's access reconcile, in order."""
    for kind in ORDER:
        integration = integrations[kind]
        connector = connector_class(kind)(integration)
        for name in connector.initial_sync_names():
            run = sync_run(integration=integration, sync_name=name, trigger=SyncRun.Trigger.INITIAL,
                           options={"initial": True})
            echo(f"  {integration.name}: {run.summary()}")
        if kind == "kisi":
            demo_glofox_configure(glofox=integrations["glofox"])
    run = sync_run(integration=integrations["kisi"], sync_name="access", trigger=SyncRun.Trigger.INITIAL)
    echo(f"  {integrations['kisi'].name}: {run.summary()}")


def demo_traffic(*, sandboxes: dict[str, RunningSandbox], integrations: dict[str, Integration],
                 web_url: str, rng: random.Random) -> str:
    """One tick of life: a member opens a Kisi door, a visit in Perfect Gym, a Glofox booking."""
    kisi = sandboxes["kisi"].fake
    users = {u["email"].lower(): u_id for u_id, u in kisi.users.items()}
    members = list(Client.objects.filter(email__in=list(users)).values_list("email", flat=True)[:200])
    told = []
    if members and kisi.locks:
        event = kisi.unlock_event(user_id=users[rng.choice(members).lower()], lock_id=next(iter(kisi.locks)))
        body, headers = kisi.webhook(KISI_WEBHOOK_SECRET, event)
        requests.post(f"{web_url}/api/v1/webhooks/kisi/{integrations['kisi'].pk}/", data=body,
                      headers={**headers, "Content-Type": "application/json"}, timeout=5)
        told.append("Kisi unlock")
    perfectgym = sandboxes["perfectgym"].fake
    member_ids = list(perfectgym.sets["Members"].rows)[:50]
    if member_ids:
        perfectgym.visit_add(member_id=rng.choice(member_ids), club_id=rng.choice([1, 2]))
        told.append("Perfect Gym visit")
    glofox = sandboxes["glofox"].fake
    branch, members = next(iter(glofox.members.items()))
    if members:
        member_id = rng.choice(list(members))
        start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=rng.choice([29, 45, 90]))
        glofox.booking_add(member_id, start=start)
        glofox.webhook_send(f"{web_url}/api/v1/webhooks/glofox/{integrations['glofox'].pk}/",
                            GLOFOX_WEBHOOK_SECRET, "BOOKING_CREATED", {"user_id": member_id}, branch=branch)
        told.append("Glofox booking")
    return ", ".join(told)
