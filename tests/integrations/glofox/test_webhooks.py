"""Glofox webhooks: signed with `signature`, stored once, and syncing the member at once."""

from datetime import UTC, datetime, timedelta

import pytest

from accessctl.selectors import access_expected
from clients.models import Client
from integrations.glofox.sandbox import PAYG, UNLIMITED
from integrations.models import SyncRun, WebhookEvent
from integrations.sync import sync_run
from packages.models import Booking, ClientPackage
from tests.integrations.glofox.conftest import WEBHOOK_SECRET

pytestmark = pytest.mark.django_db


def post(client, integration, body: bytes, headers: dict):
    return client.post(f"/api/v1/webhooks/glofox/{integration.pk}/", data=body,
                       content_type="application/json", headers=headers)


def test_a_membership_event_syncs_that_member_at_once(client, glofox, configuration, tasks_inline):
    member = glofox.member_add(status="EXPIRED")
    other = glofox.member_add()
    sync_run(integration=configuration.integration, sync_name="members")
    glofox.membership_set(member["_id"], membership=UNLIMITED, status="ACTIVE")
    glofox.member_put(other["_id"], first_name="Not asked for")
    glofox.calls.clear()
    body, headers = glofox.webhook(WEBHOOK_SECRET, "MEMBERSHIP_UPDATED",
                                   {"user_id": member["_id"], "membership_id": UNLIMITED})
    with tasks_inline(execute=True):
        response = post(client, configuration.integration, body, headers)
    assert response.status_code == 202
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.PROCESSED
    held = ClientPackage.objects.get(client__external_id=member["_id"], package__alt_id=f"glofox_{UNLIMITED}")
    assert held.status == ClientPackage.Status.ACTIVE
    assert Client.objects.get(external_id=other["_id"]).first_name != "Not asked for"  # only that member
    assert [c.path for c in glofox.calls] == [f"2.0/members/{member['_id']}"]
    run = SyncRun.objects.get(sync_name="member")
    assert run.trigger == SyncRun.Trigger.WEBHOOK and run.updated == 1


def test_a_member_event_brings_a_new_member(client, glofox, configuration, tasks_inline):
    member = glofox.member_add(first_name="Newcomer")
    body, headers = glofox.webhook(WEBHOOK_SECRET, "MEMBER_CREATED", {"_id": member["_id"]})
    with tasks_inline(execute=True):
        assert post(client, configuration.integration, body, headers).status_code == 202
    assert Client.objects.get(external_id=member["_id"]).first_name == "Newcomer"


def test_a_booking_event_gives_access_within_the_hour_at_once(client, glofox, configuration, tasks_inline):
    member = glofox.member_add(membership=PAYG)
    sync_run(integration=configuration.integration, sync_name="members")
    sync_run(integration=configuration.integration, sync_name="bookings")
    start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=29)
    booking = glofox.booking_add(member["_id"], start=start)
    body, headers = glofox.webhook(WEBHOOK_SECRET, "BOOKING_CREATED",
                                   {"_id": booking["_id"], "user_id": member["_id"]})
    with tasks_inline(execute=True):
        assert post(client, configuration.integration, body, headers).status_code == 202
    assert Booking.objects.get().external_id == booking["_id"]
    client_id = Client.objects.get(external_id=member["_id"]).pk
    window = access_expected()[client_id][configuration.kisi_group_id]
    assert window.valid_from == start - timedelta(hours=1) < datetime.now(UTC)  # open now


def test_a_credit_pack_member_event_reads_the_credits_left(client, glofox, configuration, tasks_inline):
    from integrations.glofox.sandbox import PACK

    member = glofox.member_add(membership=PACK)
    glofox.booking_add(member["_id"], start=datetime.now(UTC) + timedelta(hours=2))
    body, headers = glofox.webhook(WEBHOOK_SECRET, "MEMBER_UPDATED", {"_id": member["_id"]})
    with tasks_inline(execute=True):
        post(client, configuration.integration, body, headers)
    assert ClientPackage.objects.get().credits_remaining == 9
    sync_run(integration=configuration.integration, sync_name="members")  # the bulk sync keeps it
    assert ClientPackage.objects.get().credits_remaining == 9


def test_a_forged_signature_is_refused_and_nothing_happens(client, glofox, configuration):
    member = glofox.member_add()
    body, _ = glofox.webhook(WEBHOOK_SECRET, "MEMBER_UPDATED", {"_id": member["_id"]})
    _, forged = glofox.webhook("guessed-secret", "MEMBER_UPDATED", {"_id": member["_id"]})
    assert post(client, configuration.integration, body, forged).status_code == 401
    assert post(client, configuration.integration, body, {}).status_code == 401
    assert not WebhookEvent.objects.exists() and not Client.objects.exists()


def test_a_repeated_delivery_is_acknowledged_once(client, glofox, configuration, tasks_inline):
    member = glofox.member_add()
    body, headers = glofox.webhook(WEBHOOK_SECRET, "MEMBER_UPDATED", {"_id": member["_id"]})
    with tasks_inline(execute=True):
        first = post(client, configuration.integration, body, headers)
    with tasks_inline(execute=True) as repeat_callbacks:
        repeat = post(client, configuration.integration, body, headers)
    assert first.status_code == 202 and repeat.status_code == 200 and repeat.json()["status"] == "duplicate"
    assert first.json()["event"] == repeat.json()["event"] and len(first.json()["event"]) == 64
    assert repeat_callbacks == [] and SyncRun.objects.filter(sync_name="member").count() == 1


def test_an_event_without_envelope_is_refused(client, glofox, configuration):
    import hashlib
    import hmac

    body = b'{"type": "MEMBER_UPDATED"}'
    signature = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert post(client, configuration.integration, body, {"signature": signature}).status_code == 400


def test_an_event_of_a_branch_not_configured_changes_nothing(client, glofox, configuration, tasks_inline):
    from integrations.glofox.sandbox import SECOND_BRANCH_ID

    member = glofox.member_add(branch=SECOND_BRANCH_ID, membership=None)
    body, headers = glofox.webhook(WEBHOOK_SECRET, "MEMBER_UPDATED", {"_id": member["_id"]},
                                   branch=SECOND_BRANCH_ID)
    with tasks_inline(execute=True):
        assert post(client, configuration.integration, body, headers).status_code == 202
    assert not Client.objects.exists()
