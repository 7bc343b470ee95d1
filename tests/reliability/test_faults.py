"""Every vendor's sync under injected faults ends with exactly what a fault-free run makes."""

import random

import pytest
from django.utils import timezone
from django_q.conf import Conf

from clients.models import Client
from integrations.models import SyncIssue, SyncRun, WebhookEvent
from integrations.sandbox.transports import mounted
from integrations.services import sync_issue_retry
from integrations.sync import sync_run
from tests.integrations.helpers import sleeps_recorded
from tests.reliability.scenarios import SCENARIOS

pytestmark = pytest.mark.django_db
MAX_RUNS = 40


def run_until_done(integration, syncs) -> int:
    """Run each sync until it succeeds (a failed run keeps its committed pages). Returns runs."""
    runs = 0
    for name in syncs:
        for _ in range(MAX_RUNS):
            runs += 1
            if sync_run(integration=integration, sync_name=name).status == SyncRun.Status.SUCCEEDED:
                break
        else:
            pytest.fail(f"{name} never succeeded in {MAX_RUNS} runs")
    return runs


def retry_issues(integration, syncs) -> None:
    """What staff do once the vendor serves the records right: retry each open issue, or,
    where the vendor cannot serve one member (Momence rescans), run the syncs again."""
    from integrations.connectors import connector_for

    if not connector_for(integration).offers_client_sync:
        run_until_done(integration, syncs)
        SyncIssue.objects.filter(integration=integration).update(resolved_at=timezone.now())
    for issue in SyncIssue.objects.filter(integration=integration, resolved_at__isnull=True):
        assert sync_issue_retry(issue=issue), f"could not retry {issue}"


def assert_same_records(expected: dict, got: dict) -> None:
    """Each part of two snapshots holds the same rows (naming a few that differ)."""
    for part in expected:
        missing = [row for row in expected[part] or [] if row not in (got[part] or [])]
        extra = [row for row in got[part] or [] if row not in (expected[part] or [])]
        assert not missing and not extra, f"{part}: missing {missing[:3]}, extra {extra[:3]}"


@pytest.fixture(params=SCENARIOS, ids=lambda make: make.__name__.removesuffix("_scenario"))
def scenario(request):
    return request.param()


def test_sync_under_random_faults_ends_like_a_clean_run(scenario, monkeypatch):
    from integrations.connectors import connector_class

    sleeps_recorded(monkeypatch, connector_class(scenario.kind))
    scenario.setup()
    clean_fake = scenario.make_sandbox()
    faulty_fake = clean_fake.twin()  # the same records, even those seeded from the clock
    with mounted((clean_fake, "https://clean.test/api/"), (faulty_fake, "https://faulty.test/api/")):
        clean = scenario.integration("clean", "https://clean.test/api/")
        run_until_done(clean, scenario.syncs)
        expected = scenario.snapshot(clean.source, clean_fake)
        # Vendors' alt ids are unique across the club: clear the clean run's records first.
        Client.all_objects.filter(source=clean.source).delete()
        scenario.before_second()
        faulty = scenario.integration("faulty", "https://faulty.test/api/")

        faulty_fake.inject(status=503, probability=1 / 6, times=10**6)
        faulty_fake.inject(status=429, retry_after=0, probability=1 / 6, times=10**6)
        faulty_fake.inject(delay=120, probability=1 / 20, times=10**6)  # a read timeout
        faulty_fake.inject(malformed=True, times=3)
        runs = run_until_done(faulty, scenario.syncs)
        faulty_fake.faults_clear()
        retry_issues(faulty, scenario.syncs)

    assert runs >= len(scenario.syncs)
    assert len(faulty_fake.calls) > len(clean_fake.calls), "no fault was injected"
    assert expected["clients"] or expected["extra"], "the scenario synced nothing"
    assert_same_records(expected, scenario.snapshot(faulty.source, faulty_fake))


def test_duplicated_and_reordered_webhooks_are_each_handled_once(client, monkeypatch,
                                                                 django_capture_on_commit_callbacks):
    from tests.integrations.conftest import WEBHOOK_SECRET
    from tests.reliability.scenarios import example_scenario

    scenario = example_scenario()
    monkeypatch.setattr(Conf, "SYNC", True)
    fake = scenario.make_sandbox()
    with mounted((fake, "https://vendor.test/api/")):
        integration = scenario.integration("hooks", "https://vendor.test/api/")
        integration.set_secrets({**integration.secrets(), "webhook_secret": WEBHOOK_SECRET})
        integration.save()
        deliveries = []
        for n in range(10):
            fake.member_put(f"m{n}", first_name=f"Changed{n}")
            body, headers = fake.webhook(WEBHOOK_SECRET, {"id": f"evt-{n}", "type": "member.updated"})
            deliveries += [(body, headers), (body, headers)]
        random.Random(3).shuffle(deliveries)
        answers = []
        for body, headers in deliveries:
            with django_capture_on_commit_callbacks(execute=True):
                answers.append(client.post(f"/api/v1/webhooks/example/{integration.pk}/", data=body,
                                           content_type="application/json", headers=headers).status_code)
    assert sorted(answers) == [200] * 10 + [202] * 10
    assert WebhookEvent.objects.filter(integration=integration).count() == 10
    assert not WebhookEvent.objects.exclude(status=WebhookEvent.Status.PROCESSED).exists()
    clients = scenario.snapshot(integration.source)["clients"]
    names = {row[0]: row[1] for row in clients}
    assert all(names[f"m{n}"] == f"Changed{n}" for n in range(10))
    assert len(clients) == len(fake.members)  # every member once, however often its event came
