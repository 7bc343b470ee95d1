"""Kisi webhooks older than the freshness tolerance are refused, and dedupe records outlive it.

An unlock event dated 2019 (correctly signed) was recorded as a door access; once
housekeeping had deleted its stored event, the same delivery was accepted again.
"""

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from accessctl.models import DoorAccess
from integrations.housekeeping import records_purge
from integrations.kisi.records import iso_utc
from integrations.kisi.sandbox import webhook_sign
from integrations.models import WebhookEvent
from tests.integrations.kisi.conftest import KISI_WEBHOOK_SECRET
from tests.integrations.kisi.test_events import entrance, member, post, tasks_inline  # noqa: F401

pytestmark = pytest.mark.django_db


def unlock(kisi, member, entrance, *, hours_ago: float) -> dict:  # noqa: F811
    return kisi.unlock_event(user_id=member[1], lock_id=entrance[1],
                             at=iso_utc(timezone.now() - timedelta(hours=hours_ago)))


def deliver(client, integration, event: dict, tasks_inline):  # noqa: F811
    with tasks_inline(execute=True):
        return post(client, integration, *webhook_sign(KISI_WEBHOOK_SECRET, event))


def test_a_signed_event_dated_2019_is_refused_logged_and_not_recorded(client, kisi, kisi_integration, member,  # noqa: F811
                                                                      entrance, tasks_inline, caplog):  # noqa: F811
    event = kisi.unlock_event(user_id=member[1], lock_id=entrance[1], at="2019-06-01T08:00:00Z")
    with caplog.at_level(logging.WARNING, logger="gatehouse.webhooks"):
        response = deliver(client, kisi_integration, event, tasks_inline)
    assert response.status_code == 400 and "too old" in response.json()["error"]
    assert not DoorAccess.objects.exists() and not WebhookEvent.objects.exists()
    [line] = [record for record in caplog.records if record.name == "gatehouse.webhooks"]
    assert line.levelno == logging.WARNING
    text = line.getMessage()
    assert f"integration={kisi_integration.pk} kisi" in text and event["uuid"] in text
    assert KISI_WEBHOOK_SECRET not in text


def test_a_fresh_event_is_accepted_and_recorded(client, kisi, kisi_integration, member, entrance,  # noqa: F811
                                                tasks_inline):  # noqa: F811
    response = deliver(client, kisi_integration, unlock(kisi, member, entrance, hours_ago=23), tasks_inline)
    assert response.status_code == 202 and DoorAccess.objects.count() == 1


def test_an_event_dated_well_ahead_of_our_clock_is_refused(client, kisi, kisi_integration, member, entrance,  # noqa: F811
                                                           tasks_inline):  # noqa: F811
    response = deliver(client, kisi_integration, unlock(kisi, member, entrance, hours_ago=-1), tasks_inline)
    assert response.status_code == 400 and not DoorAccess.objects.exists()


def test_the_tolerance_is_a_setting(client, kisi, kisi_integration, member, entrance, tasks_inline,  # noqa: F811
                                    settings):
    settings.WEBHOOK_MAX_AGE_HOURS = 2
    response = deliver(client, kisi_integration, unlock(kisi, member, entrance, hours_ago=3), tasks_inline)
    assert response.status_code == 400 and not DoorAccess.objects.exists()


def test_housekeeping_keeps_events_younger_than_the_tolerance_so_a_redelivery_stays_a_duplicate(
        client, kisi, kisi_integration, member, entrance, tasks_inline, settings):  # noqa: F811
    settings.RECORDS_KEEP_DAYS = 0
    recent, older = (unlock(kisi, member, entrance, hours_ago=hours) for hours in (20, 30))
    assert deliver(client, kisi_integration, recent, tasks_inline).status_code == 202
    WebhookEvent.objects.update(received_at=timezone.now() - timedelta(hours=20))  # received when it happened
    WebhookEvent.objects.create(integration=kisi_integration, event_id=older["uuid"], event_type="lock.unlock",
                                payload=older, status=WebhookEvent.Status.PROCESSED)
    WebhookEvent.objects.filter(event_id=older["uuid"]).update(received_at=timezone.now() - timedelta(hours=30))

    assert records_purge()["webhook events"] == 1
    assert list(WebhookEvent.objects.values_list("event_id", flat=True)) == [recent["uuid"]]

    again = deliver(client, kisi_integration, recent, tasks_inline)
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert deliver(client, kisi_integration, older, tasks_inline).status_code == 400
    assert DoorAccess.objects.count() == 1
