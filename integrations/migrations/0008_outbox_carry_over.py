"""Carry Glofox's and Momence's own delivery logs over to the outbox: every pending or
failed delivery, and the others of the last 30 days (with Glofox's attempts)."""

from datetime import timedelta

from django.db import migrations
from django.utils import timezone

RECENT = timedelta(days=30)
GLOFOX_REQUEST = {"access": "POST 2.0/access", "attendance": "POST 2.0/attendances"}
MOMENCE_STATE = {"pending": "pending", "sent": "sent", "failed": "gave_up"}


def carry_over(apps, schema_editor):
    since = timezone.now() - RECENT
    _glofox(apps, since)
    _momence(apps, since)


def _glofox(apps, since):
    Old = apps.get_model("glofox", "CheckinDelivery")
    OldAttempt = apps.get_model("glofox", "CheckinAttempt")
    Delivery = apps.get_model("integrations", "Delivery")
    Attempt = apps.get_model("integrations", "DeliveryAttempt")
    chosen = Old.objects.filter(status__in=["pending", "failed"]) | Old.objects.filter(created_at__gte=since)
    for old in chosen.select_related("door_access").iterator(chunk_size=500):
        new = Delivery.objects.create(
            integration_id=old.integration_id, kind="checkin", sync_name="checkins",
            key=f"checkin:{old.door_access_id}", record_type="door_access", record_id=old.door_access_id,
            client_id=old.door_access.client_id, state=old.status, attempts=old.attempts,
            next_attempt_at=old.next_attempt_at, last_error=old.last_error[:2000], sent_at=old.sent_at,
            created_at=old.created_at, payload={
                "branch_id": old.branch_id, "configuration_id": old.configuration_id,
                "member_id": old.member_id, "event_id": old.event_id, "entry_at": old.entry_at.isoformat(),
                "door_name": old.door_name,
            })
        Attempt.objects.bulk_create([Attempt(
            delivery=new, step=a.step, started_at=a.started_at, duration_ms=a.duration_ms,
            request=GLOFOX_REQUEST.get(a.step, ""), ok=a.ok, status_code=a.status_code,
            response_excerpt=a.response_excerpt[:300],
        ) for a in OldAttempt.objects.filter(delivery=old)])


def _momence(apps, since):
    Delivery = apps.get_model("integrations", "Delivery")
    Checkin = apps.get_model("momence", "CheckinDelivery")
    TagPush = apps.get_model("momence", "TagPush")
    now = timezone.now()

    def common(old):
        state = MOMENCE_STATE.get(old.status, "pending")
        if state == "pending" and old.attempts:
            state = "failed"  # tried before: retrying, due now
        return {"integration_id": old.integration_id, "state": state, "attempts": old.attempts,
                "last_error": old.last_error[:2000], "sent_at": old.sent_at, "created_at": old.created_at,
                "next_attempt_at": now if state in ("pending", "failed") else None}

    checkins = Checkin.objects.filter(status="pending") | Checkin.objects.filter(created_at__gte=since)
    Delivery.objects.bulk_create([Delivery(
        kind="checkin", sync_name="checkins", key=f"checkin:booking:{old.booking_id}", record_type="booking",
        record_id=old.booking_id, client_id=old.booking.client_id,
        payload={"booking_ref": old.booking_ref, "door_access_id": old.door_access_id}, **common(old),
    ) for old in checkins.select_related("booking")], batch_size=500, ignore_conflicts=True)
    pushes = TagPush.objects.filter(status="pending") | TagPush.objects.filter(created_at__gte=since)
    Delivery.objects.bulk_create([Delivery(
        kind="tag_push", sync_name="tag-push", key=f"tag:{old.client_id}:{old.tag_id}", record_type="client",
        record_id=old.client_id, client_id=old.client_id, version=old.change_id,
        payload={"tag_id": old.tag_id, "action": old.action, "change_id": old.change_id}, **common(old),
    ) for old in pushes], batch_size=500, ignore_conflicts=True)


class Migration(migrations.Migration):

    dependencies = [
        ("integrations", "0007_outbox"),
        ("glofox", "0002_configuration_booking_window"),
        ("momence", "0001_initial"),
    ]

    operations = [migrations.RunPython(carry_over, migrations.RunPython.noop)]
