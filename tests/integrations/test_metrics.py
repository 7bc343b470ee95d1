"""/metrics: Prometheus' scrape, read from the database, behind a token or an address."""

import pytest
from django.core.cache import cache
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from accessctl.models import UnlockAttempt
from integrations.models import Delivery, WebhookEvent
from integrations.sync import sync_run
from tests.api.helpers import FAST_HASHERS, PASSWORD, login, member_create
from tests.factories import DoorFactory

pytestmark = pytest.mark.django_db
TOKEN = "scrape-token-8812"


@pytest.fixture(autouse=True)
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_IPS = []
    settings.PASSWORD_HASHERS = FAST_HASHERS
    cache.clear()


def scrape(client, **headers) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", **headers)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain; version=")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.content.decode())
            for sample in family.samples}


def labels(**values) -> tuple:
    return tuple(sorted(values.items()))


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", f"Basic {TOKEN}", "Bearer "])
def test_without_the_token_or_an_allowed_address_the_answer_is_no(client, authorization):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = client.get("/metrics", **headers)
    assert response.status_code == 403 and response.content == b"no"


def test_an_allowed_address_or_network_scrapes_without_a_token(client, settings):
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8", "192.0.2.9"]
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.9").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.10").status_code == 403


def test_no_token_and_no_address_configured_lets_nobody_in(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 403


def test_integration_sync_and_queue_figures(client, sandbox, integration):
    sync_run(integration=integration, sync_name="members")
    sandbox.inject(status=401, path="members")  # one failed run
    sync_run(integration=integration, sync_name="members")
    Delivery.objects.create(integration=integration, kind="checkin", sync_name="members", key="a")
    Delivery.objects.create(integration=integration, kind="checkin", sync_name="members", key="b",
                            state=Delivery.State.GAVE_UP)
    WebhookEvent.objects.create(integration=integration, event_id="e1", payload={})
    figures = scrape(client)
    club = {"integration": "Example club", "kind": "example"}
    members = {**club, "sync": "members"}
    assert figures[("gatehouse_sync_runs_24h", labels(**members, status="succeeded"))] == 1
    assert figures[("gatehouse_sync_runs_24h", labels(**members, status="failed"))] == 1
    assert figures[("gatehouse_sync_records_written_24h", labels(**members))] == 5  # the sandbox's 5 members
    assert 0 <= figures[("gatehouse_integration_lag_seconds", labels(**club))] < 60
    assert 0 <= figures[("gatehouse_sync_last_success_age_seconds", labels(**members))] < 60
    last = figures[("gatehouse_sync_run_duration_seconds", labels(**members))]
    assert 0 <= last <= figures[("gatehouse_sync_run_duration_max_24h_seconds", labels(**members))]
    assert figures[("gatehouse_deliveries", labels(**club, state="pending"))] == 1
    assert figures[("gatehouse_deliveries", labels(**club, state="gave_up"))] == 1
    assert figures[("gatehouse_webhook_events_queued", labels(**club))] == 1
    assert figures[("gatehouse_sync_issues_open", labels(**club))] == 0
    assert figures[("gatehouse_integration_active", labels(**club))] == 1
    assert figures[("gatehouse_readiness", labels(check="worker"))] == 0  # no heartbeat in a test


def test_member_logins_and_door_decisions_by_outcome(client):
    member = member_create(email="ada@example.com")
    assert login(client, "ada@example.com", PASSWORD).status_code == 200
    assert login(client, "ada@example.com", "wrong").status_code == 401
    assert login(client, "ada@example.com", "wrong again").status_code == 401
    door = DoorFactory()
    for n, outcome in enumerate(["opened", "opened", "refused", "failed"]):
        UnlockAttempt.objects.create(client=member, door=door, idempotency_key=f"k{n}", outcome=outcome,
                                     attempted_at=timezone.now())
    figures = scrape(client)
    assert figures[("gatehouse_member_logins_total", labels(outcome="ok", via="password"))] == 1
    assert figures[("gatehouse_member_logins_total", labels(outcome="failed", via="password"))] == 2
    assert figures[("gatehouse_door_decisions_total", labels(outcome="opened"))] == 2
    assert figures[("gatehouse_door_decisions_total", labels(outcome="refused"))] == 1
    assert figures[("gatehouse_door_decisions_total", labels(outcome="failed"))] == 1
