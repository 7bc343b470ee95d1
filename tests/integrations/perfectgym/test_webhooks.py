"""Perfect Gym's unsigned webhooks: an address with a secret token, events that only wake
the matching sync (once per burst), bodies never taken as data."""

import logging

import pytest
from django.urls import reverse
from django.utils.module_loading import import_string
from django_q.conf import Conf
from django_q.models import OrmQ

from clients.models import Client
from integrations.models import Integration, SyncRun, WebhookEvent
from integrations.perfectgym.sandbox import CLIENT_SECRET
from integrations.sandbox.transports import mounted
from integrations.services import integration_save
from integrations.story import webhook_path
from tests.factories import PackageFactory
from tests.integrations.perfectgym.conftest import PG_URL, initial, pg_settings

pytestmark = [pytest.mark.django_db,
              pytest.mark.skipif(not Conf.ORM, reason="REDIS_URL is set: the queued tasks are in Redis")]


def token_of(integration) -> str:
    return Integration.objects.get(pk=integration.pk).secrets()["webhook_token"]


def queued() -> list[tuple[str, list]]:
    """The tasks waiting for a worker: (function, arguments)."""
    return [(row.task["func"], list(row.task["args"])) for row in OrmQ.objects.order_by("id")]


def woken_syncs() -> list[str]:
    return [args[1] for func, args in queued() if func == "integrations.tasks.sync_task"]


def work(only: str = "") -> list[str]:
    """Be the worker: run the queued tasks (those of `only`, if given) in order, and the
    tasks they queue; returns what ran."""
    ran = []
    while True:
        rows = [row for row in OrmQ.objects.order_by("id") if not only or row.task["func"] == only]
        if not rows:
            return ran
        task = rows[0].task
        rows[0].delete()
        import_string(task["func"])(*task["args"], **task.get("kwargs", {}))
        ran.append(task["func"].rsplit(".", 1)[1])


def post(client, integration, body: bytes, token: str | None = None):
    path = webhook_path(integration) if token is None else \
        reverse("webhook-token", kwargs={"kind": "perfectgym", "integration_id": integration.pk, "token": token})
    return client.post(path, data=body, content_type="application/json")


@pytest.fixture
def synced(sandbox, integration):
    PackageFactory(alt_id="payment_plan_24")
    initial(integration)
    return integration


@pytest.mark.django_db(transaction=True)
def test_a_webhook_over_http_wakes_the_members_sync_and_the_newcomer_becomes_a_client(
        live_server, customer_number, locations, caplog):
    fake_and_mock = PerfectGymSandboxMounted()
    with fake_and_mock as (fake, mock):
        mock.add_passthru(live_server.url)
        integration = integration_save(kind="perfectgym", name="Perfect Gym", settings=pg_settings(customer_number),
                                       secrets={"client_secret": CLIENT_SECRET})
        initial(integration)
        newcomer = fake.member_put(homeClubId=2, firstName="Webhook", lastName="Newcomer")
        with caplog.at_level(logging.INFO):
            answer = fake.webhook_send(f"{live_server.url}{webhook_path(integration)}", "UserModified",
                                       memberId=newcomer["id"])
            assert answer.status_code == 200
            assert not Client.objects.filter(external_id=str(newcomer["id"])).exists()  # only woken so far
            assert work() == ["webhook_task", "sync_task"]
        client = Client.objects.get(external_id=str(newcomer["id"]))
        assert (client.first_name, client.home_location) == ("Webhook", locations[2])
        woken = SyncRun.objects.filter(trigger=SyncRun.Trigger.WEBHOOK)
        assert [(run.sync_name, run.status, run.created) for run in woken] == [("members", "succeeded", 1)]
        assert token_of(integration) not in caplog.text


class PerfectGymSandboxMounted:
    """The Perfect Gym fake under `responses`, yielding (fake, mock) so a test can let its
    own calls to the live server through."""

    def __enter__(self):
        from integrations.perfectgym.sandbox import PerfectGymSandbox

        self.fake = PerfectGymSandbox(members=20, seed=5, base_url=PG_URL)
        self.context = mounted((self.fake, PG_URL))
        return self.fake, self.context.__enter__()

    def __exit__(self, *exc):
        return self.context.__exit__(*exc)


@pytest.mark.parametrize("event, wakes", [("UserModified", ["members"]), ("ContractCreated", ["contracts"]),
                                          ("UserPresenceChanged", ["visits"]), ("ClubCreated", [])])
def test_each_event_wakes_only_its_own_sync(client, sandbox, integration, event, wakes):
    body, _ = sandbox.webhook(event, memberId=3)
    assert post(client, integration, body).status_code == 200
    assert work(only="integrations.tasks.webhook_task") == ["webhook_task"]
    assert woken_syncs() == wakes
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.PROCESSED


def test_a_sync_switched_off_is_not_woken(client, sandbox, customer_number, locations):
    integration = integration_save(kind="perfectgym", name="No swipes",
                                   settings=pg_settings(customer_number, sync_swipes=False),
                                   secrets={"client_secret": CLIENT_SECRET})
    body, _ = sandbox.webhook("UserPresenceChanged", memberId=3)
    assert post(client, integration, body).status_code == 200
    work(only="integrations.tasks.webhook_task")
    assert woken_syncs() == []


def test_a_wrong_or_missing_token_is_refused_and_nothing_is_queued_or_logged(
        client, sandbox, integration, customer_number, caplog):
    other = integration_save(kind="perfectgym", name="Other club", settings=pg_settings(customer_number),
                             secrets={"client_secret": CLIENT_SECRET})
    body, _ = sandbox.webhook("UserModified", memberId=3)
    near_miss = token_of(integration)[:-1] + "x"
    with caplog.at_level(logging.INFO):
        for token in (near_miss, token_of(other)):  # a guess, and another integration's own token
            answer = post(client, integration, body, token=token)
            assert (answer.status_code, answer.json()) == (404, {"error": "No."})
        bare = client.post(f"/api/v1/webhooks/perfectgym/{integration.pk}/", data=body,
                           content_type="application/json")
        assert bare.status_code == 404
    assert not WebhookEvent.objects.exists() and queued() == []
    assert "wrong or missing address token" in caplog.text
    assert near_miss not in caplog.text and token_of(other) not in caplog.text
    assert f"/api/v1/webhooks/perfectgym/{integration.pk}/***/" in caplog.text  # Django's own line, masked


def test_a_signed_vendor_refuses_an_address_token(client, integration):
    from integrations.services import integration_save as save

    kisi = save(kind="kisi", name="Kisi", settings={}, secrets={"api_key": "k", "webhook_secret": "s"})
    answer = client.post(f"/api/v1/webhooks/kisi/{kisi.pk}/anything/", data=b"{}", content_type="application/json")
    assert answer.status_code == 404 and not WebhookEvent.objects.exists()


def test_the_body_is_never_taken_as_data(client, sandbox, synced):
    """A body naming a member, with fields of its own, changes nobody: the woken sync reads
    Perfect Gym by version, and nothing changed there."""
    before = sorted(Client.all_objects.values_list("external_id", "first_name", "email", "is_active", "updated_at"))
    for member_id in (5, 999):  # a member Gatehouse has, and one Perfect Gym does not
        body, _ = sandbox.webhook("UserModified", memberId=member_id, id=member_id, firstName="Mallory",
                                  email="mallory@evil.example", isActive=False, isDeleted=True)
        assert post(client, synced, body).status_code == 200
    work()
    run = SyncRun.objects.get(trigger=SyncRun.Trigger.WEBHOOK)
    assert (run.sync_name, run.status, run.created, run.updated) == ("members", "succeeded", 0, 0)
    assert sorted(Client.all_objects.values_list("external_id", "first_name", "email", "is_active",
                                                 "updated_at")) == before
    assert not Client.all_objects.filter(external_id="999").exists()


def test_a_burst_wakes_the_sync_once_and_once_more_while_it_runs(client, sandbox, synced, monkeypatch):
    body, _ = sandbox.webhook("UserModified", memberId=5)
    for _ in range(20):
        assert post(client, synced, body).status_code == 200
    work(only="integrations.tasks.webhook_task")
    assert WebhookEvent.objects.filter(status=WebhookEvent.Status.PROCESSED).count() == 20
    assert woken_syncs() == ["members"]  # one run for the 20 events
    # Another worker is running the members sync when the next 20 arrive.
    from integrations.models import SyncState
    from integrations.sync import claim

    busy = SyncRun.objects.create(integration=synced, sync_name="members", trigger=SyncRun.Trigger.SCHEDULE)
    state = SyncState.objects.get(integration=synced, sync_name="members")
    work(only="integrations.tasks.sync_task")  # the queued woken run (the sync was free then)
    assert claim(state=state, run=busy)
    changed = sandbox.member_put(5, lastName="ChangedDuringTheRun")
    for _ in range(20):
        post(client, synced, body)
    work(only="integrations.tasks.webhook_task")
    assert woken_syncs() == ["members"]  # once more, not once per event
    waits = []

    def busy_run_ends(seconds):  # the woken run waits for the busy one, which ends now
        waits.append(seconds)
        SyncState.objects.filter(pk=state.pk).update(claimed_by=None, lease_until=None)

    monkeypatch.setattr("integrations.tasks._pause", busy_run_ends)
    work()
    assert waits  # it waited rather than being dropped
    runs = SyncRun.objects.filter(trigger=SyncRun.Trigger.WEBHOOK, sync_name="members")
    assert runs.count() == 2 and SyncRun.objects.filter(trigger=SyncRun.Trigger.WEBHOOK).count() == 2
    assert Client.objects.get(external_id=str(changed["id"])).last_name == "ChangedDuringTheRun"


def test_the_token_shows_only_in_the_address_to_copy_and_a_new_one_retires_the_old(
        admin_client, sandbox, integration):
    token = token_of(integration)
    url = reverse("admin:integrations_integration_change", args=[integration.pk])
    page = admin_client.get(url).content.decode()
    address = f"http://testserver/api/v1/webhooks/perfectgym/{integration.pk}/{token}/"
    assert f'value="{address}"' in page and page.count(token) == 1
    assert "Paste this address into Perfect Gym's webhook settings" in page
    rotate = reverse("admin:integrations_integration_actions",
                     kwargs={"pk": integration.pk, "tool": "webhook_address_new_button"})
    response = admin_client.post(rotate, follow=True)
    fresh = token_of(integration)
    shown = response.content.decode()
    assert fresh != token and "its webhook address is new" in shown
    assert token not in shown and shown.count(fresh) == 1
    body, _ = sandbox.webhook("UserModified", memberId=3)
    assert post(admin_client, integration, body, token=token).status_code == 404
    assert post(admin_client, integration, body, token=fresh).status_code == 200


def test_rotating_needs_the_change_permission(client, integration, django_user_model):
    from django.contrib.auth.models import Permission

    viewer = django_user_model.objects.create_user("viewer", password="pw-12345-long", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_integration"))
    client.force_login(viewer)
    token = token_of(integration)
    page = client.get(reverse("admin:integrations_integration_change", args=[integration.pk])).content.decode()
    assert "New webhook address" not in page and token not in page  # the address carries a secret
    rotate = reverse("admin:integrations_integration_actions",
                     kwargs={"pk": integration.pk, "tool": "webhook_address_new_button"})
    assert client.post(rotate).status_code == 403
    assert token_of(integration) == token


def test_saving_the_settings_keeps_the_address(sandbox, integration, customer_number):
    token = token_of(integration)
    integration_save(integration=Integration.objects.get(pk=integration.pk), name="Renamed",
                     settings=pg_settings(customer_number, member_minutes=2), secrets={"client_secret": ""})
    assert token_of(integration) == token
