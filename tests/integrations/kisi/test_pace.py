"""How fast a push talks to Kisi: as many calls at once as the integration's setting, one
pace for all of them, and every caller waiting when Kisi answers 429 with Retry-After."""

import threading

import pytest

from integrations.kisi.client import IN_FLIGHT
from integrations.kisi.connector import KisiConnector
from tests.integrations.kisi.conftest import run
from tests.integrations.kisi.test_reconcile import members_bulk, members_group_id

pytestmark = pytest.mark.django_db


class SandboxTime:
    """The sandbox's clock: it moves only when a caller sleeps, so a test waits for nothing."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps: list[float] = []
        self.lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.sleeps.append(seconds)
            self.now += seconds


def test_kisi_over_its_rate_answers_429_and_the_push_waits_and_loses_nothing(
        kisi, kisi_integration, package_rule, membership, monkeypatch):
    clock = SandboxTime()
    monkeypatch.setattr(KisiConnector, "http_options", {"sleep": clock.sleep, "backoff": 0.01})
    kisi.clock, kisi.rate_limit = clock, 20
    members = members_bulk(60, membership)
    result = run(kisi_integration, "access")
    assert (result.status, result.created, result.failed) == ("succeeded", 60, 0)
    assert sorted(kisi.group_members(members_group_id(kisi))) == sorted(m.email for m in members)
    assert kisi.limited and all(wait == 1 for _, wait in kisi.limited)
    assert 1.0 in clock.sleeps  # as long as Retry-After said
    assert f"Kisi asked to wait {len(kisi.limited)} time(s)" in result.report
    # Nothing done twice: one user and one role per member (a second create would be refused).
    assert len(kisi.users) == 60 and len(kisi.assignments) == 60


def test_the_in_flight_setting_is_how_many_calls_kisi_sees_at_once(
        kisi, kisi_integration, package_rule, membership):
    kisi_integration.settings = {**kisi_integration.settings, "in_flight": 3}
    kisi_integration.save()
    members_bulk(30, membership)
    at_once, most, lock = [0], [0], threading.Lock()
    handle = kisi.handle

    def counted(request, **kwargs):
        with lock:
            at_once[0] += 1
            most[0] = max(most[0], at_once[0])
        try:
            return handle(request, **kwargs)
        finally:
            with lock:
                at_once[0] -= 1

    kisi.handle = counted
    kisi.inject(delay=0.02, times=60, path=r"^(users|role_assignments)$", skip=2)
    assert run(kisi_integration, "access").created == 30
    assert most[0] == 3


def test_calls_at_once_is_a_setting_in_the_admin_form_with_its_default(admin_client):
    page = admin_client.get("/admin/integrations/integration/add/?kind=kisi").content.decode()
    assert 'name="in_flight"' in page and f'value="{IN_FLIGHT}"' in page
    assert "Kisi calls at once" in page and "until Kisi answers 429" in page
