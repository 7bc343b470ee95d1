"""The Deliveries page: what was sent to each vendor and what it answered, filtered, and
retried by who may."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from integrations.models import Delivery, DeliveryAttempt, Integration
from tests.factories import ClientFactory
from tests.staff.roles import FRONT_DESK, MANAGER, log_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(integration):
    ada = ClientFactory(first_name="Ada", last_name="Lovelace")
    delivery = Delivery.objects.create(
        integration=integration, kind="checkin", key="checkin:1", sync_name="checkins", record_type="door_access",
        record_id=71, client=ada, state="sent", attempts=2, payload={"member_id": "m1"})
    at = timezone.now() - timedelta(minutes=3)
    DeliveryAttempt.objects.create(delivery=delivery, started_at=at, request="POST 2.0/access", status_code=503,
                                   response_excerpt="glofox: answered 503", duration_ms=41)
    DeliveryAttempt.objects.create(delivery=delivery, started_at=at + timedelta(minutes=1), ok=True,
                                   request="POST 2.0/access", status_code=200, response_excerpt='{"success":true}',
                                   duration_ms=17)
    return delivery


@pytest.fixture
def given_up(integration):
    other = Integration.objects.create(kind="momence", name="Studio")
    return Delivery.objects.create(
        integration=other, kind="tag_push", key="tag:1:2", sync_name="tag-push", record_type="client",
        client=ClientFactory(first_name="Grace", last_name="Hopper"), state="gave_up", attempts=5,
        last_error="momence: answered 404")


def test_the_page_lists_deliveries_with_their_attempts(client, sent, given_up):
    log_in(client, FRONT_DESK)
    page = client.get("/staff/deliveries/").content.decode()
    assert page.index("Grace Hopper") < page.index("Ada Lovelace"), "newest first"
    assert "POST 2.0/access" in page and "glofox: answered 503" in page and ">41<" in page
    assert "Failed (gave up)" in page and "answered 404" in page
    assert "<button>Retry</button>" not in page, "the desk sees, it does not retry"
    assert ">Deliveries</a>" in page


def test_filters_narrow_to_an_integration_a_state_and_a_member(client, sent, given_up):
    log_in(client, MANAGER)
    by_integration = client.get(f"/staff/deliveries/?integration={given_up.integration_id}").content.decode()
    assert "Grace Hopper" in by_integration and "Ada Lovelace" not in by_integration
    by_state = client.get("/staff/deliveries/?state=sent").content.decode()
    assert "Ada Lovelace" in by_state and "Grace Hopper" not in by_state
    by_member = client.get(f"/staff/deliveries/?client={sent.client_id}").content.decode()
    assert "Ada Lovelace" in by_member and "Grace Hopper" not in by_member
    by_record = client.get("/staff/deliveries/?record=71").content.decode()
    assert "Ada Lovelace" in by_record and "Grace Hopper" not in by_record
    by_name = client.get("/staff/deliveries/?member=hopper").content.decode()
    assert "Grace Hopper" in by_name and "Ada Lovelace" not in by_name


def test_an_unreadable_filter_is_a_400_that_says_which(client, sent):
    log_in(client, MANAGER)
    response = client.get("/staff/deliveries/?client=abc&state=nonsense")
    assert response.status_code == 400
    assert "That filter could not be read: client" in response.content.decode()


def test_a_manager_retries_a_given_up_delivery_and_a_sent_one_stays_sent(client, sent, given_up):
    log_in(client, MANAGER)
    page = client.get("/staff/deliveries/").content.decode()
    assert page.count("<button>Retry</button>") == 1
    response = client.post(f"/staff/deliveries/{given_up.pk}/retry/")
    assert response.status_code == 302
    given_up.refresh_from_db()
    assert (given_up.state, given_up.attempts) == ("pending", 0) and given_up.next_attempt_at <= timezone.now()
    client.post(f"/staff/deliveries/{sent.pk}/retry/")
    sent.refresh_from_db()
    assert sent.state == "sent"
    assert client.get("/staff/deliveries/999999/retry/").status_code == 405
    assert client.post("/staff/deliveries/999999/retry/").status_code == 404


def test_the_client_page_links_to_what_was_sent_for_them(client, sent, django_user_model):
    log_in(client, FRONT_DESK)
    page = client.get(f"/staff/clients/{sent.client_id}/").content.decode()
    assert f"/staff/deliveries/?client={sent.client_id}" in page
    clerk = django_user_model.objects.create_user("clerk", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_client"))
    client.force_login(clerk)
    assert "/staff/deliveries/" not in client.get(f"/staff/clients/{sent.client_id}/").content.decode()
