"""The sync engine against the example vendor: create, update, skip, issues, faults, resume."""

import pytest
from django.db import connection

from clients.models import Client
from integrations import sync
from integrations.connectors import Connector, SyncSpec
from integrations.models import Integration, SyncIssue, SyncRun, SyncState
from integrations.sync import Counts, Page, SyncJob, records_apply, sync_run

pytestmark = pytest.mark.django_db


def run_members(integration, **options):
    return sync_run(integration=integration, sync_name="members", options=options)


def test_first_run_creates_a_client_per_member(sandbox, integration):
    run = run_members(integration)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert (run.created, run.updated, run.unchanged, run.failed) == (5, 0, 0, 0)
    assert sorted(Client.objects.values_list("email", flat=True)) == [f"m{n}@example.com" for n in range(5)]
    assert Client.objects.get(external_id="m3").source == integration.source


def test_changed_member_updates_and_untouched_one_is_skipped(sandbox, integration):
    run_members(integration)
    before = Client.objects.get(external_id="m2").updated_at
    sandbox.member_put("m1", first_name="Renamed")
    sandbox.member_put("m2", first_name="First2")  # touched in the vendor, same data
    run = run_members(integration)
    assert (run.created, run.updated, run.unchanged) == (0, 1, 1)
    assert Client.objects.get(external_id="m1").first_name == "Renamed"
    assert Client.objects.get(external_id="m2").updated_at == before


def test_running_twice_changes_nothing_the_second_time(sandbox, integration):
    run_members(integration)
    again = run_members(integration)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 0)
    assert again.cursor_before == again.cursor_after
    assert Client.objects.count() == 5


def test_deleted_member_is_deleted_recoverably(sandbox, integration):
    run_members(integration)
    sandbox.member_delete("m4")
    run_members(integration)
    assert not Client.objects.filter(external_id="m4").exists()
    assert Client.all_objects.get(external_id="m4").is_deleted


def test_malformed_member_becomes_an_issue_and_the_page_goes_on(sandbox, integration):
    sandbox.inject(malformed=True)
    run = run_members(integration)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert (run.created, run.failed) == (4, 1)
    issue = SyncIssue.objects.get()
    assert issue.record_key == "m0" and "first name" in issue.reason
    assert issue.payload["id"] == "m0" and issue.resolved_at is None
    assert Client.objects.count() == 4


def test_same_bad_record_again_folds_into_the_open_issue(sandbox, integration):
    sandbox.inject(malformed=True)
    run_members(integration)
    sandbox.member_put("m0", email="new@example.com")
    sandbox.inject(malformed=True)
    run_members(integration)
    issue = SyncIssue.objects.get()
    assert issue.occurrences == 2


def test_record_the_database_refuses_becomes_an_issue(sandbox, integration):
    Client.objects.create(first_name="Manual", alt_id="A1")
    sandbox.member_put("m1", number="A1")  # alt ids are unique: the database refuses it
    run = run_members(integration)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.failed == 1 and run.created == 4
    issue = SyncIssue.objects.get()
    assert issue.record_key == "m1" and "database refused" in issue.reason


def test_429_with_retry_after_is_waited_out(sandbox, integration, example_connector):
    sandbox.inject(status=429, retry_after=3, path="members")
    run = run_members(integration)
    assert run.status == SyncRun.Status.SUCCEEDED and run.created == 5
    assert 3.0 in example_connector  # the sleeps the HTTP layer made


def test_5xx_storm_fails_cleanly_and_next_run_resumes_at_the_cursor(sandbox, integration):
    sandbox.inject(status=503, times=50, skip=1, path="members")
    failed = run_members(integration, limit=2)
    assert failed.status == SyncRun.Status.FAILED
    assert "503" in failed.error
    assert failed.created == 2 and Client.objects.count() == 2
    state = SyncState.objects.get(integration=integration, sync_name="members")
    assert state.cursor == 2 and state.claimed_by is None

    sandbox.faults_clear()
    resumed = run_members(integration, limit=2)
    assert resumed.status == SyncRun.Status.SUCCEEDED
    assert resumed.cursor_before == 2 and resumed.created == 3
    first_call = next(c for c in reversed(sandbox.calls) if c.query.get("after") == "2")
    assert first_call is not None
    assert Client.objects.count() == 5


def test_bad_credentials_fail_the_run_without_showing_the_key(sandbox, integration):
    from integrations.services import integration_save

    integration_save(integration=integration, name=integration.name,
                     settings=integration.settings, secrets={"api_key": "wrong-key-secret-99"})
    run = run_members(integration)
    assert run.status == SyncRun.Status.FAILED
    assert "AuthError" in run.error and "wrong-key-secret-99" not in run.error


# The engine's shared steps, with a tiny job: options["pages"] are its vendor pages of
# client ids; apply says each one changed.
CALLS: list = []


class TinyJob(SyncJob):
    def pages(self, cursor):
        for number, records in enumerate(self.options["pages"], start=1):
            CALLS.append(("page", number))
            yield Page(list(records), cursor=number, total=number * 10)

    def prepare(self, raws):
        CALLS.append(("prepare", list(raws)))

    def map(self, raw):
        CALLS.append(("map", raw))
        return raw

    def apply(self, records):
        CALLS.append(("apply", list(records)))
        return Counts(created=len(records), changed_clients=set(records))


class MergedJob(TinyJob):
    page_rows = 3


class ReferringJob(TinyJob):
    """Records above 100 refer to the record 100 below them, which no page holds."""

    def referred(self, raws):
        CALLS.append(("referred", list(raws)))
        return [raw - 100 for raw in raws if raw > 100]


class SettingJob(TinyJob):
    def apply(self, records):
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            CALLS.append(("synchronous_commit", cursor.fetchone()[0]))
        return super().apply(records)


class Tiny(Connector):
    kind = "tinyengine"
    label = "Tiny engine test vendor"
    syncs = [SyncSpec("tiny", "Tiny", job=TinyJob, default_minutes=1),
             SyncSpec("merged", "Merged", job=MergedJob, default_minutes=1),
             SyncSpec("setting", "Setting", job=SettingJob, default_minutes=1),
             SyncSpec("referring", "Referring", job=ReferringJob, default_minutes=1)]


@pytest.fixture
def tiny(settings, monkeypatch):
    settings.INTEGRATION_CONNECTORS = [*settings.INTEGRATION_CONNECTORS, "tests.integrations.test_sync.Tiny"]
    CALLS.clear()
    return Integration.objects.create(kind="tinyengine", name="Tiny")


@pytest.fixture
def woken(monkeypatch):
    """The client ids each access_changed_notify call of the engine was given."""
    calls = []
    monkeypatch.setattr(sync, "access_changed_notify", lambda *, client_ids, origin: calls.append(set(client_ids)))
    return calls


def tiny_run(integration, pages):
    return sync_run(integration=integration, sync_name="tiny", options={"pages": pages})


def test_the_clients_apply_returns_wake_the_door_systems_once_per_run(tiny, woken):
    run = tiny_run(tiny, [[1, 2], [3], [2, 4]])
    assert woken == [{1, 2, 3, 4}]
    assert (run.created, run.pages) == (5, 3)


def test_counts_add_up_and_join_their_changed_clients():
    total = Counts(created=1, changed_clients={1}) + Counts(updated=2, changed_clients={2})
    assert (total.created, total.updated, total.changed_clients) == (1, 2, {1, 2})


def test_records_apply_wakes_the_door_systems_for_what_apply_changed(tiny, woken):
    job = Tiny(tiny).sync_job("tiny", {})
    counts = records_apply(job=job, raws=[7, 8])
    assert (counts.created, woken) == (2, [{7, 8}])


def test_prepare_reads_each_page_once_before_it_is_mapped(tiny, woken):
    tiny_run(tiny, [[1, 2], [3]])
    assert CALLS == [("page", 1), ("prepare", [1, 2]), ("map", 1), ("map", 2), ("apply", [1, 2]),
                     ("page", 2), ("prepare", [3]), ("map", 3), ("apply", [3])]


def test_records_apply_prepares_the_records_before_mapping_them(tiny, woken):
    records_apply(job=Tiny(tiny).sync_job("tiny", {}), raws=[7])
    assert CALLS == [("prepare", [7]), ("map", 7), ("apply", [7])]


def test_records_a_page_refers_to_are_written_first_in_its_transaction(tiny, woken):
    progress = []
    run = sync_run(integration=tiny, sync_name="referring", options={"pages": [[1, 102], [3]]},
                   progress=lambda done, total: progress.append((done, total)))
    assert CALLS[:6] == [("page", 1), ("referred", [1, 102]), ("prepare", [2, 1, 102]),
                         ("map", 2), ("map", 1), ("map", 102)]
    assert [c[1] for c in CALLS if c[0] == "apply"] == [[2, 1, 102], [3]]
    assert (run.created, woken, progress) == (4, [{1, 2, 3, 102}], [(2, 10), (3, 20)])


def test_records_apply_fetches_what_its_records_refer_to(tiny, woken):
    counts = records_apply(job=Tiny(tiny).sync_job("referring", {}), raws=[105])
    assert (counts.created, [c[1] for c in CALLS if c[0] == "apply"]) == (2, [[5, 105]])


def test_pages_merge_up_to_page_rows_with_the_last_cursor(tiny, woken):
    progress = []
    run = sync_run(integration=tiny, sync_name="merged", options={"pages": [[1, 2], [3], [4], [5, 6, 7], [8]]},
                   progress=lambda done, total: progress.append((done, total)))
    assert [c[1] for c in CALLS if c[0] == "apply"] == [[1, 2, 3], [4, 5, 6, 7], [8]]
    assert (run.pages, run.created, run.cursor_after) == (3, 8, 5)
    assert SyncState.objects.get(integration=tiny, sync_name="merged").cursor == 5
    assert progress == [(3, 20), (7, 40), (8, 50)]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="synchronous_commit is PostgreSQL's")
def test_every_page_commits_without_waiting_for_its_wal_flush(tiny, woken):
    sync_run(integration=tiny, sync_name="setting", options={"pages": [[1], [2]]})
    assert [c[1] for c in CALLS if c[0] == "synchronous_commit"] == ["off", "off"]


def test_a_run_refreshes_the_statistics_of_what_it_wrote_as_it_grows(sandbox, integration, monkeypatch):
    analyzed = []
    monkeypatch.setattr(sync, "ANALYZE_AT", (2, 4))
    monkeypatch.setattr(sync, "tables_analyze", lambda *, models: analyzed.append([m.__name__ for m in models]))
    run_members(integration, limit=1)  # five members, one a page
    assert analyzed == [["Client", "ClientIdentity"]] * 2  # at 2 and at 4 clients written
