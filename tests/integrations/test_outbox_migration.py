"""The data migration: Glofox's and Momence's own delivery logs move to the outbox (pending
and recent ones, Glofox's attempts with them), then the old tables go."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tests.integrations.helpers import migrate

BEFORE = [("integrations", "0007_outbox"), ("glofox", "0002_configuration_booking_window"),
          ("momence", "0001_initial")]
AFTER = [("glofox", "0003_checkins_moved_to_outbox"), ("momence", "0002_deliveries_moved_to_outbox")]


@pytest.mark.django_db(transaction=True)
def test_pending_and_recent_deliveries_are_carried_over_with_their_attempts():
    old = migrate(BEFORE)
    integration = old.get_model("integrations", "Integration").objects.create(kind="glofox", name="G")
    studio = old.get_model("integrations", "Integration").objects.create(kind="momence", name="M")
    client = old.get_model("clients", "Client").objects.create(first_name="Ada", source="glofox-1",
                                                                 external_id="g-100")
    location = old.get_model("clients", "Location").objects.create(name="Club")
    door = old.get_model("accessctl", "Door").objects.create(title="Main", door_id="kisi-1", location=location)
    entry = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    DoorAccess = old.get_model("accessctl", "DoorAccess")
    Checkin = old.get_model("glofox", "CheckinDelivery")
    pending = Checkin.objects.create(
        door_access=DoorAccess.objects.create(client=client, door=door, accessed_at=entry, source="kisi-1",
                                              source_ref="a"),
        integration=integration, branch_id="b1", member_id="g-100", event_id="ev-7", entry_at=entry,
        door_name="Main", status="failed", attempts=1, next_attempt_at=entry, last_error="glofox: answered 500")
    old.get_model("glofox", "CheckinAttempt").objects.create(
        delivery=pending, step="access", started_at=entry, ok=False, status_code=500,
        response_excerpt="answered 500", duration_ms=12)
    ancient = Checkin.objects.create(
        door_access=DoorAccess.objects.create(client=client, door=door, accessed_at=entry, source="kisi-1",
                                              source_ref="b"),
        integration=integration, branch_id="b1", member_id="g-100", entry_at=entry, status="sent")
    Checkin.objects.filter(pk=ancient.pk).update(created_at=timezone.now() - timedelta(days=60))
    tag = old.get_model("clients", "Tag").objects.create(name="door-access")
    old.get_model("momence", "TagPush").objects.create(integration=studio, client=client, tag=tag, action="add",
                                                       change_id=42, status="pending")

    new = migrate(AFTER)
    Delivery = new.get_model("integrations", "Delivery")
    [checkin] = Delivery.objects.filter(kind="checkin")
    assert (checkin.key, checkin.state, checkin.attempts, checkin.record_type, checkin.client_id) == (
        f"checkin:{pending.door_access_id}", "failed", 1, "door_access", client.pk)
    assert checkin.payload["event_id"] == "ev-7" and checkin.payload["branch_id"] == "b1"
    assert checkin.next_attempt_at == entry and checkin.last_error == "glofox: answered 500"
    [attempt] = new.get_model("integrations", "DeliveryAttempt").objects.filter(delivery=checkin)
    assert (attempt.request, attempt.status_code, attempt.ok) == ("POST 2.0/access", 500, False)
    [push] = Delivery.objects.filter(kind="tag_push")
    assert (push.integration_id, push.key, push.version, push.state, push.sync_name) == (
        studio.pk, f"tag:{client.pk}:{tag.pk}", 42, "pending", "tag-push")
    assert push.payload == {"tag_id": tag.pk, "action": "add", "change_id": 42}
    assert "glofox_checkindelivery" not in connection.introspection.table_names()
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
