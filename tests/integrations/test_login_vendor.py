"""The login proxy's vendor fallback, with the example vendor's sandbox as the member system."""

import logging
import time

import pytest

from clients.models import Client, LoginCounter
from clients.services import client_delete
from integrations.example.connector import ExampleConnector
from integrations.example.sandbox import API_KEY, ExampleSandbox
from integrations.models import Integration
from integrations.sandbox.transports import mounted, served
from integrations.services import integration_save
from tests.api.helpers import PASSWORD, bearer, login, member_create
from tests.integrations.conftest import EXAMPLE_URL

REFUSED = {"detail": "Invalid identifier or password."}
VENDOR_PASSWORD = "Vendor-Pass-31"


pytestmark = pytest.mark.usefixtures("fast_and_fresh")


@pytest.fixture
def member_sandbox(sandbox):
    """The example vendor, whose member m1 (m1@example.com) has an app password."""
    sandbox.member_password_set("m1", VENDOR_PASSWORD)
    return sandbox


def verify_calls(fake: ExampleSandbox) -> int:
    return sum(1 for call in fake.calls if call.path == "members/verify")


def test_vendor_credentials_create_the_client_then_match_it(client, member_sandbox, integration):
    first = login(client, "m1@example.com", VENDOR_PASSWORD)

    assert first.status_code == 200
    created = Client.objects.get(source=integration.source, external_id="m1")
    assert (created.first_name, created.email, first.json()["client"]["id"]) == ("First1", "m1@example.com",
                                                                                created.pk)
    assert client.get("/api/v1/me", **bearer(first.json()["access"])).json()["client"]["id"] == created.pk

    again = login(client, "m1@example.com", VENDOR_PASSWORD)
    assert again.json()["client"]["id"] == created.pk
    assert Client.objects.filter(external_id="m1").count() == 1


def test_vendor_credentials_log_in_the_client_the_sync_made(client, member_sandbox, integration):
    from integrations.sync import sync_run

    sync_run(integration=integration, sync_name="members")
    synced = Client.objects.get(source=integration.source, external_id="m1")

    answer = login(client, "m1@example.com", VENDOR_PASSWORD)

    assert answer.json()["client"]["id"] == synced.pk
    assert Client.objects.count() == 5


def test_own_password_wins_without_asking_the_vendor(client, member_sandbox, integration):
    member = member_create(email="m1@example.com")

    answer = login(client, "m1@example.com", PASSWORD)

    assert answer.json()["client"]["id"] == member.pk and verify_calls(member_sandbox) == 0


@pytest.mark.parametrize("failure", ["unknown", "wrong", "gatehouse wrong"])
def test_every_refusal_gives_the_same_answer(client, member_sandbox, integration, failure):
    member_create(email="m2@example.com")
    identifier = {"unknown": "nobody@example.com", "wrong": "m1@example.com", "gatehouse wrong": "m2@example.com"}

    answer = login(client, identifier[failure], "not-it")

    assert (answer.status_code, answer.json(), answer.headers["WWW-Authenticate"]) == (
        401, REFUSED, 'Bearer realm="gatehouse"')
    assert verify_calls(member_sandbox) == 1  # the vendor was asked in every case


@pytest.mark.parametrize("failure", ["down", "timeout", "bad key"])
@pytest.mark.parametrize("identifier", ["m1@example.com", "nobody@example.com", "m2@example.com"])
def test_a_vendor_that_cannot_answer_gets_the_same_503_for_everyone(client, member_sandbox, integration,
                                                                     failure, identifier):
    member_create(email="m2@example.com")
    if failure == "down":
        member_sandbox.inject(status=503, times=5)
    elif failure == "timeout":
        member_sandbox.inject(delay=60, times=5)
    else:
        integration_save(integration=integration, name=integration.name, settings=integration.settings,
                         secrets={"api_key": "revoked-key"})

    answer = login(client, identifier, VENDOR_PASSWORD)

    assert (answer.status_code, answer.json(), answer.headers["Retry-After"]) == (
        503, {"detail": "The member systems cannot be reached. Try again later."}, "30")
    assert verify_calls(member_sandbox) == 1  # not against the identifier: only the address's pair counts
    assert set(LoginCounter.objects.filter(failures__gt=0).values_list("scope", flat=True)) == {"pair"}


def test_a_slow_vendor_holds_the_login_no_longer_than_its_budget(client, member_sandbox, integration, settings):
    settings.MEMBER_LOGIN_VENDOR_SECONDS = 0.3
    member_sandbox.inject(delay=1.0, times=3)  # answers after 1 s unless the call gives up sooner

    started = time.monotonic()
    answer = login(client, "m1@example.com", VENDOR_PASSWORD)

    assert answer.status_code == 503 and time.monotonic() - started < 0.9


def test_vendors_are_asked_at_once_and_the_first_in_login_order_that_vouches_wins(client, integration,
                                                                                  monkeypatch):
    first, second = ExampleSandbox(members=3), ExampleSandbox(members=3)
    second.member_password_set("m2", VENDOR_PASSWORD)
    other = integration_save(kind="example", name="Second club", secrets={"api_key": API_KEY},
                             settings={"base_url": "https://second.test/api/", "member_minutes": 5,
                                       "login_order": 1})
    integration_save(integration=integration, name=integration.name,
                     settings={**integration.settings, "login_order": 2}, secrets={})
    asked = []
    original = ExampleConnector.credential_check

    def spy(self, identifier, password):
        asked.append(self.integration.name)
        return original(self, identifier, password)

    monkeypatch.setattr(ExampleConnector, "credential_check", spy)
    with mounted((first, EXAMPLE_URL), (second, "https://second.test/api/")):
        answer = login(client, "m2@example.com", VENDOR_PASSWORD)
        assert sorted(asked) == ["Example club", "Second club"]  # both at once
        asked.clear()
        Integration.objects.filter(pk=other.pk).update(is_active=False)
        refused = login(client, "m2@example.com", VENDOR_PASSWORD)
        assert asked == ["Example club"]  # an inactive integration is not asked

    assert Client.objects.get(pk=answer.json()["client"]["id"]).source == other.source
    assert refused.status_code == 401 and verify_calls(first) == 2 and verify_calls(second) == 1


def test_a_client_the_club_deleted_stays_out(client, member_sandbox, integration):
    login(client, "m1@example.com", VENDOR_PASSWORD)
    client_delete(client=Client.objects.get(external_id="m1"))

    answer = login(client, "m1@example.com", VENDOR_PASSWORD)

    assert answer.status_code == 401
    assert Client.all_objects.get(external_id="m1").deleted_at is not None


def test_a_connector_that_crashes_did_not_answer_and_logs_no_secret(client, sandbox, integration, monkeypatch,
                                                                     caplog):
    def broken(self, identifier, password):
        raise ValueError(f"cannot parse {password}")

    monkeypatch.setattr(ExampleConnector, "credential_check", broken)
    caplog.set_level(logging.DEBUG)

    answer = login(client, "m1@example.com", "Leaky-Secret-55")

    assert answer.status_code == 503
    assert "crashed=ValueError" in caplog.text and "Leaky-Secret-55" not in caplog.text


def test_passwords_never_reach_the_logs_on_any_path(client, member_sandbox, integration, caplog):
    caplog.set_level(logging.DEBUG)
    login(client, "m1@example.com", VENDOR_PASSWORD)
    login(client, "m1@example.com", "Wrong-Vendor-Pass-8")
    member_sandbox.inject(status=500)
    login(client, "m1@example.com", "Down-Vendor-Pass-9")

    outcomes = [r.getMessage().split()[1] for r in caplog.records if r.name == "gatehouse.login"]
    assert outcomes == ["outcome=ok", "outcome=failed", "outcome=unavailable"]
    assert "via=" + integration.source in caplog.text
    for secret in (VENDOR_PASSWORD, "Wrong-Vendor-Pass-8", "Down-Vendor-Pass-9", API_KEY):
        assert secret not in caplog.text


def test_vendor_fallback_over_real_http(client, db, example_connector):
    fake = ExampleSandbox(members=2)
    fake.member_password_set("m0", VENDOR_PASSWORD)
    with served(fake) as url:
        integration_save(kind="example", name="Served club", secrets={"api_key": API_KEY},
                         settings={"base_url": url, "member_minutes": 5})
        ok = login(client, "m0@example.com", VENDOR_PASSWORD)
        wrong = login(client, "m0@example.com", "nope")
    assert ok.status_code == 200 and Client.objects.get(pk=ok.json()["client"]["id"]).external_id == "m0"
    assert wrong.status_code == 401 and verify_calls(fake) == 2



def test_under_a_deadline_a_vendor_call_does_not_wait_out_retries(sandbox, integration, example_connector):
    from integrations.connectors import connector_for
    from integrations.errors import VendorError
    from integrations.http import vendor_deadline

    sandbox.inject(status=503, retry_after=1, times=3, path="ping")
    with vendor_deadline(0.5), pytest.raises(VendorError):
        connector_for(integration).test_connection()
    assert (len(sandbox.calls), example_connector) == (1, [])  # no retry, no back-off sleep

    sandbox.faults_clear()
    sandbox.inject(status=503, retry_after=1, times=3, path="ping")
    assert connector_for(integration).test_connection() == "connected to Example Club"
    assert len(sandbox.calls) == 1 + 4 and example_connector == [1.0, 1.0, 1.0]  # without one: waits


def test_the_login_order_is_a_setting_of_integrations_that_check_credentials(admin_client):
    page = admin_client.get("/admin/integrations/integration/add/?kind=example").content.decode()
    assert "Member login order" in page and 'name="login_order"' in page

    answer = admin_client.post("/admin/integrations/integration/add/?kind=example", {
        "name": "Ordered", "is_active": "on", "base_url": EXAMPLE_URL, "api_key": API_KEY,
        "member_minutes": "5", "login_order": "3"})

    assert answer.status_code == 302
    assert Integration.objects.get(name="Ordered").settings["login_order"] == 3
