"""/healthz and /readyz: what a load balancer or an orchestrator probes."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import Schedule

from integrations.health import heartbeat_record
from integrations.tasks import heartbeat_task

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("schedules_on_time")]

CHECKS = {"database", "broker", "worker", "schedules"}


def test_healthz_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_readyz_is_503_until_a_worker_has_run_the_heartbeat(client):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "fail", "checks": {
        "database": "ok", "broker": "ok", "worker": "fail", "schedules": "ok"}}


def test_readyz_is_200_once_a_worker_beats_and_says_nothing_beyond_names_and_states(client):
    heartbeat_task()
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body == {"status": "ok", "checks": dict.fromkeys(CHECKS, "ok")}


def test_a_heartbeat_older_than_the_threshold_fails_the_worker_check(client, settings):
    settings.HEALTH_WORKER_MAX_AGE_SECONDS = 60
    heartbeat_record(now=timezone.now() - timedelta(seconds=61))
    assert client.get("/readyz").json()["checks"]["worker"] == "fail"
    heartbeat_record()
    assert client.get("/readyz").json()["checks"]["worker"] == "ok"


def test_a_schedule_late_by_more_than_its_interval_and_margin_fails_readiness(client, settings):
    settings.HEALTH_SCHEDULE_MARGIN_MINUTES = 5
    heartbeat_record()
    now = timezone.now()
    # Within interval + margin: a 10-minute schedule 14 minutes late, a daily one 2 hours late.
    Schedule.objects.create(name="ten", func="math.floor", schedule_type=Schedule.MINUTES, minutes=10,
                            repeats=-1, next_run=now - timedelta(minutes=14))
    Schedule.objects.create(name="daily", func="math.floor", schedule_type=Schedule.DAILY, repeats=-1,
                            next_run=now - timedelta(hours=2))
    # Paused (repeats=0): never runs, never late.
    Schedule.objects.create(name="paused", func="math.floor", schedule_type=Schedule.MINUTES, minutes=1,
                            repeats=0, next_run=now - timedelta(days=3))
    assert client.get("/readyz").status_code == 200
    Schedule.objects.filter(name="ten").update(next_run=now - timedelta(minutes=16))
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["checks"]["schedules"] == "fail"
    assert "ten" not in response.content.decode()  # a schedule's name is for staff, not anonymous probes


def test_a_broker_that_cannot_be_reached_fails_readiness(client, monkeypatch):
    heartbeat_record()
    # Redis on a port nobody listens on, as if REDIS_URL pointed at a server that is down.
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", "redis://127.0.0.1:9/0")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "broker": "fail", "worker": "ok", "schedules": "ok"}
    assert "6379" not in response.content.decode() and "127.0.0.1" not in response.content.decode()


def test_the_staff_dashboard_shows_the_same_checks_with_their_detail(manager_client):
    page = manager_client.get("/staff/").content.decode()
    assert 'data-check="worker"' in page and "no task worker has ever run the heartbeat task" in page
    heartbeat_task()
    page = manager_client.get("/staff/").content.decode()
    assert "check-fail" not in page and "last heartbeat 0 s ago" in page


def test_probes_are_not_redirected_to_https_in_production(client, settings):
    settings.SECURE_SSL_REDIRECT = True  # as config.production
    assert client.get("/staff/").status_code == 301
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 503  # its real answer, not a redirect that passes for 2xx/3xx
