"""The Glofox client against its sandbox: errors on 200, rate limits, paging, real HTTP."""

import pytest
from django.utils import timezone

from accessctl.models import Door
from accessctl.services import DoorEntry, door_accesses_record
from clients.models import Client
from integrations.connectors import connector_for
from integrations.errors import AuthError, PermanentError, RateLimited
from integrations.glofox.client import BURST, RATE_PER_SECOND, GlofoxClient
from integrations.glofox.models import GlofoxConfiguration
from integrations.glofox.sandbox import API_KEY, API_TOKEN, BRANCH_ID, GlofoxSandbox
from integrations.models import Delivery, SyncRun
from integrations.sandbox.transports import served
from integrations.sync import sync_run
from tests.integrations.glofox.conftest import GLOFOX_URL, configure, glofox_integration

pytestmark = pytest.mark.django_db


def client(**options) -> GlofoxClient:
    return GlofoxClient(api_key=API_KEY, api_token=API_TOKEN, base_url=GLOFOX_URL,
                        **{"sleep": lambda s: None, "backoff": 0.01, **options})


def test_success_false_on_a_200_is_an_error(glofox):
    glofox.fail_softly(path="memberships", message="Namespace is disabled", code="NAMESPACE_DISABLED")
    with pytest.raises(PermanentError, match="success: false: the vendor refused the request") as error:
        client().memberships(branch=BRANCH_ID)
    assert "Namespace is disabled" not in str(error.value)  # Glofox's words stay out
    assert len(client().memberships(branch=BRANCH_ID)) == 4  # the next call is fine


def test_a_branch_not_whitelisted_is_an_auth_error(glofox):
    with pytest.raises(AuthError, match="refused the credentials [(]BRANCH_NOT_WHITELISTED[)]"):
        client().members_page(branch="000000000000000000000000", page=1)


def test_wrong_credentials_never_show_in_the_error(glofox):
    wrong = GlofoxClient(api_key="key-that-is-wrong", api_token="token-that-is-wrong", base_url=GLOFOX_URL)
    with pytest.raises(AuthError) as error:
        wrong.members_page(branch=BRANCH_ID, page=1)
    assert "key-that-is-wrong" not in str(error.value) and "token-that-is-wrong" not in str(error.value)


def test_a_429_is_retried_after_retry_after(glofox):
    waits: list[float] = []
    glofox.member_add()
    glofox.inject(status=429, retry_after=3, path="2.0/members")
    page = client(sleep=waits.append).members_page(branch=BRANCH_ID, page=1)
    assert len(page.records) == 1 and 3.0 in waits


def test_the_sandbox_limits_to_ten_a_second_and_the_client_paces_itself(glofox):
    glofox.rate_limit(rate=10, burst=5)
    unpaced = client(rate_per_second=None, max_attempts=1)
    answers = []
    for _ in range(8):
        try:
            unpaced.memberships(branch=BRANCH_ID)
            answers.append("ok")
        except RateLimited as limited:
            answers.append(limited.retry_after)
    assert answers[:5] == ["ok"] * 5 and answers[5] == 1.0  # over the burst: 429, Retry-After 1
    assert (RATE_PER_SECOND, BURST) == (10.0, 20)
    paced = GlofoxClient(api_key=API_KEY, api_token=API_TOKEN, base_url=GLOFOX_URL)
    assert paced.http.pacer.rate == 10 and paced.http.pacer.burst == BURST


def test_the_bookings_list_pages_with_its_meta_envelope(glofox):
    from datetime import UTC, datetime, timedelta

    member = glofox.member_add()
    for n in range(130):
        glofox.booking_add(member["_id"], start=datetime.now(UTC) + timedelta(hours=1, minutes=n))
    first = client().bookings_page(branch=BRANCH_ID, page=1)
    second = client().bookings_page(branch=BRANCH_ID, page=2)
    assert (len(first.records), first.has_more, first.total) == (100, True, 130)
    assert (len(second.records), second.has_more) == (30, False)
    assert isinstance(first.records[0]["time_start"], str) and len(first.records[0]["time_start"]) == 19


def test_the_seeded_sandbox_spans_every_membership_type_and_books_a_quarter():
    fake = GlofoxSandbox(members=40)
    members = list(fake.members[BRANCH_ID].values())
    types = {m["membership"]["type"] for m in members}
    assert len(members) == 40 and types == {"time", "time_classes", "num_classes", "payg"}
    assert any(m["membership"]["status"] == "EXPIRED" for m in members)
    bookings = list(fake.bookings[BRANCH_ID].values())
    assert len(bookings) == 10 and {b["status"] for b in bookings} == {"BOOKED", "CANCELED"}


def test_members_sync_and_check_in_over_real_http(db, group, place, glofox_sleeps):
    """The sandbox served by a real WSGI server; the client talks to it over a socket."""
    fake = GlofoxSandbox(members=120)
    with served(fake) as url:
        integration = glofox_integration(base_url=url)
        configuration = configure(integration, group, place)
        run = sync_run(integration=integration, sync_name="members")
        assert run.status == SyncRun.Status.SUCCEEDED and run.pages == 2
        assert Client.objects.filter(source=integration.source).count() == 120
        door = Door.objects.create(title="Front", door_id="kisi-5", location=place.location,
                                   access_control="kisi", kisi_lock_id="5")
        holder = Client.objects.filter(packages__package__alt_id__endswith="0001",
                                       packages__status="active").first()
        door_accesses_record(source="kisi-3", entries=[DoorEntry(holder.pk, door, timezone.now(), True, "x1")])
        sync_run(integration=integration, sync_name="checkins")
        assert [a["user_id"] for a in fake.accesses] == [holder.external_id]
        assert Delivery.objects.get().state == Delivery.State.SENT
        assert GlofoxConfiguration.objects.get() == configuration
        assert "connected" not in connector_for(integration).test_connection()
