"""The initial sync, a tag push and a check-in against the sandbox served over real HTTP."""

from datetime import timedelta

import pytest

from accessctl.services import DoorEntry, door_accesses_record
from clients.models import Client, Tag
from clients.services import client_tags_change
from integrations.models import SyncRun
from integrations.momence.sandbox import MomenceSandbox
from integrations.sandbox.transports import served
from integrations.services import integration_save
from integrations.sync import sync_run
from integrations.tasks import initial_sync_task
from packages.models import Booking, ClassSession, ClientPackage, Package
from tests.factories import DoorFactory
from tests.integrations.momence.conftest import SECRETS

pytestmark = pytest.mark.django_db


@pytest.fixture
def over_http():
    fake = MomenceSandbox(members=30, seed=7)
    with served(fake) as url:
        yield fake, url


def test_initial_sync_then_push_and_check_in_over_http(over_http, location):
    fake, url = over_http
    integration = integration_save(kind="momence", name="Momence live", secrets=SECRETS,
                                   settings={"base_url": url, "location": location.pk})
    summary = initial_sync_task(integration.pk, {})
    assert summary.count("succeeded") == 6, summary
    assert Client.objects.filter(source=integration.source).count() == 30
    assert Package.objects.filter(alt_id__startswith="momence_").count() == 7
    bought = sum(len(items) for items in fake.bought.values())
    assert ClientPackage.objects.filter(source=integration.source).count() == bought > 0
    assert ClassSession.objects.filter(name="Personal Training").exists()
    assert Booking.objects.filter(source=integration.source).count() == len(fake.bookings) + len(fake.appointments)

    member_id = next(iter(fake.members))
    client = Client.objects.get(external_id=str(member_id))
    client_tags_change(client_ids={client.pk}, tag=Tag.objects.get(name="door-access"), add=True,
                       reason="Sequence", source="sequence")
    assert sync_run(integration=integration, sync_name="tag-push").status == SyncRun.Status.SUCCEEDED
    assert 2 in fake.member_tag_ids(member_id)

    booking = Booking.objects.filter(source=integration.source, external_id__startswith="booking:",
                                     session__start__gt=location.sessions.first().start).select_related(
        "session", "client").order_by("session__start").first()
    door = DoorFactory(location=location)
    door_accesses_record(source="kisi-1", entries=[DoorEntry(
        client_id=booking.client_id, door=door, accessed_at=booking.session.start - timedelta(minutes=15),
        granted=True, source_ref="evt-1")])
    assert sync_run(integration=integration, sync_name="checkins").status == SyncRun.Status.SUCCEEDED
    assert fake.checkins == [int(booking.external_id.removeprefix("booking:"))]
    assert fake.grants == ["password"]
