"""The data migration: Gladstone's subscriptions without a package move to the framework's back-fill."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("gladstone", "0001_initial"), ("integrations", "0004_pending_records")]
AFTER = [("gladstone", "0002_pending_records_replace_unmatched")]


@pytest.mark.django_db(transaction=True)
def test_unmatched_subscriptions_become_pending_records_waiting_for_their_package():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    integration = old.get_model("integrations", "Integration").objects.create(kind="gladstone", name="G")
    client = old.get_model("clients", "Client").objects.create(first_name="Ada", source="gladstone-1",
                                                                 external_id="100001")
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    old.get_model("gladstone", "UnmatchedSubscription").objects.create(
        integration=integration, client=client, member_id="100001", subscription_ref="S0000007",
        sub_type_id="PTPK02", start=start, seen_at=start)
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    new = MigrationExecutor(connection).loader.project_state(AFTER).apps
    [row] = new.get_model("integrations", "PendingRecord").objects.all()
    assert (row.reference, row.package_wanted, row.tier_wanted, row.waits_for) == ("S0000007", "PTPK02", "02",
                                                                                    "package")
    assert row.client_id == client.pk and row.record["start"].startswith("2026-01-05T09:00")
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
