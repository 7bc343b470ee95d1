"""A constant number of SQL statements per page, whatever the page size."""

import pytest
from django.db import connection

from integrations.perfectgym import sandbox_odata
from integrations.sync import sync_run
from tests.factories import PackageFactory

pytestmark = pytest.mark.django_db


def statements_per_page(integration, sync_name, **options) -> list[int]:
    """Statements each page of one run cost (page boundaries from the progress callback)."""
    seen, marks = [0], []

    def count(execute, sql, params, many, context):
        seen[0] += 1
        return execute(sql, params, many, context)

    def progress(done, total):
        marks.append(seen[0])

    with connection.execute_wrapper(count):
        sync_run(integration=integration, sync_name=sync_name, options=options, progress=progress)
    return [b - a for a, b in zip([0, *marks], marks, strict=False)][1:]  # the first carries the run's start


def test_statements_per_page_do_not_grow_with_the_page_size(sandbox, integration, monkeypatch,
                                                            page_per_commit):
    PackageFactory(alt_id="payment_plan_24")
    monkeypatch.setattr(sandbox_odata, "PAGE_SIZE", 3)
    small = statements_per_page(integration, "members", initial=True, location="UB")  # 12 members
    small_contracts = statements_per_page(integration, "contracts", initial=True, location="UB")
    monkeypatch.setattr(sandbox_odata, "PAGE_SIZE", 7)
    large = statements_per_page(integration, "members", initial=True, location="SPA")  # 8 members
    large_contracts = statements_per_page(integration, "contracts", initial=True, location="SPA")
    assert len(small) >= 2 and len(large) >= 1
    assert set(small) == set(large) and len(set(small)) == 1  # every page: the same statements
    # A contracts page with contracts waiting for their package also reads the back-fill's
    # look-ups and keeps them (integrations.pending): a few statements more, as constant.
    assert max(small_contracts) == max(large_contracts) <= max(small) + 4


def test_a_large_load_refreshes_the_planner_statistics_once_it_has_grown(sandbox, integration, monkeypatch):
    analyzed = []
    monkeypatch.setattr("integrations.sync.ANALYZE_AT", (10, 30))
    monkeypatch.setattr("integrations.perfectgym.syncs.ROWS_PER_COMMIT", 1)
    monkeypatch.setattr(sandbox_odata, "PAGE_SIZE", 8)
    monkeypatch.setattr("integrations.sync.tables_analyze",
                        lambda *, models: analyzed.append([m.__name__ for m in models]))
    sync_run(integration=integration, sync_name="members")
    assert analyzed == [["Client", "ClientIdentity"]] * 2  # at 10 and at 30 clients written
