"""Glofox and Kisi together, each through its own sandbox: memberships and bookings in
Glofox become Kisi access at once, and Kisi unlocks become Glofox check-ins.

Tasks run in-process after each commit, so the chain is the product's: a Glofox sync
says which clients changed, Kisi reconciles exactly those, a Kisi unlock webhook
records a door access, which wakes the Glofox check-in sync.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from django_q.conf import Conf

from accessctl.models import DoorAccess, DoorSystemUser, KisiGroup, KisiPlace
from clients.models import Client
from integrations.glofox.connector import GlofoxConnector
from integrations.glofox.sandbox import PACK, PAYG, UNLIMITED, GlofoxSandbox
from integrations.glofox.services import configuration_save
from integrations.kisi.connector import KisiConnector
from integrations.kisi.records import iso_utc
from integrations.kisi.sandbox import API_KEY as KISI_KEY
from integrations.kisi.sandbox import KisiSandbox
from integrations.models import Delivery, SyncRun
from integrations.sandbox.transports import mounted
from integrations.services import integration_save
from integrations.sync import sync_run
from tests.factories import LocationFactory
from tests.integrations.glofox.conftest import GLOFOX_URL, configure, glofox_integration
from tests.integrations.helpers import sleeps_recorded

pytestmark = pytest.mark.django_db
KISI_URL = "https://kisi.test/"
KISI_SECRET = "kisi-whsec-cross-7"


@pytest.fixture(autouse=True)
def no_sleeping(monkeypatch):
    sleeps_recorded(monkeypatch, GlofoxConnector, KisiConnector)
    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture
def vendors():
    glofox, kisi = GlofoxSandbox(members=0), KisiSandbox(members=0)
    with mounted((glofox, GLOFOX_URL), (kisi, KISI_URL)):
        yield glofox, kisi


@pytest.fixture
def glofox(vendors):
    return vendors[0]


@pytest.fixture
def kisi(vendors):
    return vendors[1]


@pytest.fixture
def club(vendors, django_capture_on_commit_callbacks):
    """Kisi's places, groups and locks imported; Glofox's branch mapped to Uxbridge and the
    organisation's Members group, Unlimited selected, bookings enabled."""
    LocationFactory(name="Uxbridge", time_zone="Europe/London")
    kisi_integration = integration_save(
        kind="kisi", name="Kisi", settings={"base_url": KISI_URL, "reconcile_minutes": 1,
                                            "events_polling": False, "events_minutes": 5},
        secrets={"api_key": KISI_KEY, "webhook_secret": KISI_SECRET})
    sync_run(integration=kisi_integration, sync_name="doors")
    integration = glofox_integration()
    configuration = configure(integration, KisiGroup.objects.get(name="Members"),
                              KisiPlace.objects.get(name="Uxbridge"), types=[UNLIMITED], bookings=True)
    return {"kisi": kisi_integration, "glofox": integration, "configuration": configuration,
            "chain": django_capture_on_commit_callbacks}


def glofox_sync(club, *names):
    """Glofox syncs, then whatever they wake (Kisi's reconcile), as a worker would."""
    with club["chain"](execute=True):
        for name in names or ("members", "bookings"):
            sync_run(integration=club["glofox"], sync_name=name)


def roles(kisi) -> dict[str, dict]:
    group = next(g["id"] for g in kisi.groups.values() if g["name"] == "Members")
    return kisi.group_members(group)


def soon(minutes: int) -> datetime:
    return datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=minutes)


def test_an_active_member_is_in_the_group_and_a_lapse_keeps_the_user(club, glofox, kisi):
    member = glofox.member_add(membership=UNLIMITED, email="ada@example.com")
    known = kisi.user_add("ADA@example.com", "Ada in Kisi already")
    glofox_sync(club)
    assert roles(kisi)["ADA@example.com"]["valid_until"] is None  # found by exact email, not created
    assert "POST users" not in kisi.writes()
    assert SyncRun.objects.get(integration=club["kisi"], sync_name="access").trigger == SyncRun.Trigger.ACCESS
    glofox.membership_set(member["_id"], membership=UNLIMITED, status="EXPIRED")
    kisi.calls_clear()
    glofox_sync(club, "members")
    assert roles(kisi) == {}
    assert kisi.user_by_email("ada@example.com") == known and not any(
        k.startswith("DELETE users") for k in kisi.writes())


def test_every_glofox_client_becomes_a_kisi_user_without_access(club, glofox, kisi):
    lead = glofox.member_add(membership=None, type="lead", email="lead@example.com")
    glofox.member_add(membership=PACK, email="pack@example.com")  # no booking: no access yet
    glofox_sync(club)
    assert kisi.user_by_email("lead@example.com") and kisi.user_by_email("pack@example.com")
    assert roles(kisi) == {}
    link = DoorSystemUser.objects.get(client__external_id=lead["_id"])
    assert link.external_id == str(kisi.user_by_email("lead@example.com")["id"])


def test_payg_window_runs_from_an_hour_before_the_class_to_its_end(club, glofox, kisi):
    member = glofox.member_add(membership=PAYG, email="payg@example.com")
    start = soon(180)
    glofox.booking_add(member["_id"], start=start, minutes=45)
    glofox_sync(club)
    role = roles(kisi)["payg@example.com"]
    assert role["valid_from"] == iso_utc(start - timedelta(hours=1))
    assert role["valid_until"] == iso_utc(start + timedelta(minutes=45))


def test_after_the_class_the_payg_role_is_removed(club, glofox, kisi, monkeypatch):
    member = glofox.member_add(membership=PAYG, email="late@example.com")
    start = soon(20)
    glofox.booking_add(member["_id"], start=start, minutes=30)
    glofox_sync(club)
    assert "late@example.com" in roles(kisi)
    later = start + timedelta(minutes=31)  # the class is over
    monkeypatch.setattr("django.utils.timezone.now", lambda: later)
    sync_run(integration=club["kisi"], sync_name="access")
    assert roles(kisi) == {}


def test_a_booking_29_minutes_before_class_gets_access_within_the_minute(club, glofox, kisi):
    member = glofox.member_add(membership=PACK, email="quick@example.com")
    glofox_sync(club)
    start = soon(29)
    glofox.booking_add(member["_id"], start=start)
    kisi.calls_clear()
    glofox_sync(club, "bookings")  # the next one-minute run
    role = roles(kisi)["quick@example.com"]
    assert role["valid_from"] == iso_utc(start - timedelta(hours=1)) < iso_utc(timezone.now())
    reconcile = SyncRun.objects.filter(integration=club["kisi"], sync_name="access").first()
    assert reconcile.options == {"clients": [Client.objects.get(external_id=member["_id"]).pk]}


def test_a_booking_webhook_gives_access_at_once(club, glofox, kisi, client):
    from tests.integrations.glofox.conftest import WEBHOOK_SECRET

    member = glofox.member_add(membership=PAYG, email="hook@example.com")
    glofox_sync(club)
    booking = glofox.booking_add(member["_id"], start=soon(15))
    body, headers = glofox.webhook(WEBHOOK_SECRET, "BOOKING_CREATED",
                                   {"_id": booking["_id"], "user_id": member["_id"]})
    with club["chain"](execute=True):
        response = client.post(f"/api/v1/webhooks/glofox/{club['glofox'].pk}/", data=body,
                               content_type="application/json", headers=headers)
    assert response.status_code == 202 and "hook@example.com" in roles(kisi)


def test_a_cancelled_booking_removes_the_access(club, glofox, kisi):
    member = glofox.member_add(membership=PAYG, email="cancel@example.com")
    booking = glofox.booking_add(member["_id"], start=soon(90))
    glofox_sync(club)
    assert "cancel@example.com" in roles(kisi)
    glofox.booking_set(booking["_id"], status="CANCELED")
    glofox_sync(club, "bookings")
    assert roles(kisi) == {} and kisi.user_by_email("cancel@example.com")


def test_two_reasons_one_removed_keeps_access(club, glofox, kisi):
    """A credit pack selected as a membership type (unbounded) and booked (a window): dropping
    the type from the configuration leaves the booking's window, never no access."""
    configuration = club["configuration"]
    configuration.membership_types = [UNLIMITED, PACK]
    with club["chain"](execute=True):
        configuration_save(configuration=configuration)
    member = glofox.member_add(membership=PACK, email="both@example.com")
    start = soon(240)
    glofox.booking_add(member["_id"], start=start)
    glofox_sync(club)
    assert roles(kisi)["both@example.com"]["valid_until"] is None
    configuration.membership_types = [UNLIMITED]
    kisi.calls_clear()
    with club["chain"](execute=True):
        configuration_save(configuration=configuration)
    role = roles(kisi)["both@example.com"]
    assert role["valid_until"] == iso_utc(start + timedelta(hours=1))  # replaced by the window
    assert kisi.writes().get("DELETE role_assignments/<id>", 0) == 1


def test_6000_members_all_reach_kisi(club, glofox, kisi):
    for n in range(6000):
        glofox.member_add(membership=UNLIMITED, email=f"bulk{n:05d}@example.com")
    glofox_sync(club, "members")
    assert Client.objects.filter(source=club["glofox"].source).count() == 6000
    assert len(roles(kisi)) == 6000  # the seed stops at 5,000 users
    assert DoorSystemUser.objects.count() == 6000


def kisi_unlock(client, club, kisi, member, *, lock="Uxbridge main entrance"):
    """The member opens a Kisi lock; Kisi posts the signed lock.unlock webhook."""
    user_id = int(DoorSystemUser.objects.get(client__external_id=member["_id"]).external_id)
    lock_id = next(k["id"] for k in kisi.locks.values() if k["name"] == lock)
    event = kisi.unlock_event(user_id=user_id, lock_id=lock_id)
    body, headers = kisi.webhook(KISI_SECRET, event)
    with club["chain"](execute=True):
        return client.post(f"/api/v1/webhooks/kisi/{club['kisi'].pk}/", data=body,
                           content_type="application/json", headers=headers), body, headers


def test_a_kisi_unlock_checks_the_member_in_at_glofox(club, glofox, kisi, client):
    member = glofox.member_add(membership=UNLIMITED, email="door@example.com")
    glofox_sync(club)
    response, body, headers = kisi_unlock(client, club, kisi, member)
    assert response.status_code == 202
    access = DoorAccess.objects.get()
    assert access.client.external_id == member["_id"] and access.source == club["kisi"].source
    assert [(a["user_id"], a["door"]) for a in glofox.accesses] == [(member["_id"], "Uxbridge main entrance")]
    assert glofox.attendances == []
    with club["chain"](execute=True):  # Kisi delivers the same event again
        repeat = client.post(f"/api/v1/webhooks/kisi/{club['kisi'].pk}/", data=body,
                             content_type="application/json", headers=headers)
    assert repeat.status_code == 200 and len(glofox.accesses) == 1


def test_an_unlock_near_a_booked_class_marks_attendance(club, glofox, kisi, client):
    member = glofox.member_add(membership=PAYG, email="class@example.com")
    booking = glofox.booking_add(member["_id"], start=soon(25))
    glofox_sync(club)
    kisi_unlock(client, club, kisi, member)
    assert len(glofox.accesses) == 1
    assert [a["model_ids"] for a in glofox.attendances] == [[booking["event_id"]]]


def test_an_unlock_at_an_unmapped_place_or_without_glofox_access_is_not_checked_in(club, glofox, kisi, client):
    member = glofox.member_add(membership=UNLIMITED)
    lapsed = glofox.member_add(status="EXPIRED")
    glofox_sync(club)
    LocationFactory(name="Spa Road")
    sync_run(integration=club["kisi"], sync_name="doors")  # Spa Road's lock becomes a door
    kisi_unlock(client, club, kisi, member, lock="Spa Road front door")
    kisi_unlock(client, club, kisi, lapsed)
    assert DoorAccess.objects.count() == 2 and glofox.accesses == []
    assert not Delivery.objects.exists()


def test_a_check_in_glofox_refused_with_a_500_is_sent_again_once(club, glofox, kisi, client):
    member = glofox.member_add(membership=UNLIMITED)
    glofox_sync(club)
    glofox.inject(status=500, path="2.0/access")
    kisi_unlock(client, club, kisi, member)
    delivery = Delivery.objects.get()
    assert delivery.state == Delivery.State.FAILED and glofox.accesses == []
    Delivery.objects.update(next_attempt_at=timezone.now())  # its backoff has passed
    sync_run(integration=club["glofox"], sync_name="checkins")
    sync_run(integration=club["glofox"], sync_name="checkins")
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.SENT and len(glofox.accesses) == 1
    assert [a.status_code for a in delivery.attempt_log.all()] == [500, 200]
