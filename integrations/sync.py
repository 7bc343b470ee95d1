"""The sync engine: read a page, map it, upsert it, advance the cursor, all in one
transaction per page; one run at a time per sync, claimed atomically.

A connector's sync is a `SyncJob`: `pages(cursor)` yields `Page`s from the vendor,
`referred(raws)` fetches the records a page refers to but does not hold, `prepare(raws)`
reads what mapping the page needs, `map(raw)` turns one vendor record into a neutral
record (or raises BadRecord), `apply(records)` writes a page through the upsert services
and returns `Counts`, whose `changed_clients` (the clients whose access may have changed)
the engine hands to the door systems (integrations.reactions) once the page is committed.
"""

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from clients.bulk import commit_unflushed, tables_analyze
from integrations.connectors import connector_for
from integrations.errors import BadRecord, VendorError
from integrations.models import Integration, SyncIssue, SyncRun, SyncState
from integrations.reactions import access_changed_notify

logger = logging.getLogger("gatehouse.sync")
ANALYZE_AT = (1_000, 10_000)  # rows one run has written: refresh the planner's statistics


def _lease() -> timedelta:
    """How long a claim lasts without a page committed (settings.SYNC_LEASE_SECONDS)."""
    return timedelta(seconds=settings.SYNC_LEASE_SECONDS)


@dataclass
class Page:
    """Vendor records and the cursor that is true once they are committed."""

    records: list[Any]
    cursor: Any
    total: int | None = None  # how many records the whole sync expects, when known


@dataclass
class Counts:
    """What a page did: the run's counters (COUNTERS, added to its SyncRun) and the
    clients whose access may have changed (the door systems are woken for them)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0
    changed_clients: set[int] = field(default_factory=set)

    def __add__(self, other: "Counts") -> "Counts":
        return Counts(**{k: getattr(self, k) + getattr(other, k) for k in COUNTERS},
                      changed_clients=self.changed_clients | other.changed_clients)


COUNTERS = ("created", "updated", "unchanged", "skipped", "failed")  # Counts' SyncRun columns


@dataclass
class SyncJob(ABC):
    """Base of a connector's sync. Subclasses implement pages, map and apply."""

    connector: Any
    options: dict = field(default_factory=dict)
    name: str = ""
    fresh_start: bool = False  # ignore the stored cursor (initial syncs)
    # Merge consecutive vendor pages until at least this many records (or the end) are
    # written in one transaction: the per-commit work then costs less per record.
    page_rows: ClassVar[int | None] = None
    # The models apply() bulk-writes: once a run has written ANALYZE_AT rows, PostgreSQL's
    # statistics of their tables are refreshed, so a load is planned for a full table.
    written_models: ClassVar[tuple] = ()

    @classmethod
    def starts_fresh(cls, options: dict) -> bool:
        """Whether a run with `options` ignores the stored cursor (e.g. an initial sync that
        re-reads from the beginning); by default every run goes on from the cursor."""
        return False

    @property
    def state_name(self) -> str:
        return self.name

    @abstractmethod
    def pages(self, cursor) -> Iterator[Page]:
        """Yield pages from the vendor, starting after `cursor` (None: the beginning)."""

    def referred(self, raws: list) -> list:
        """Records this page refers to but does not hold (e.g. the members of bookings whom
        Gatehouse does not know yet), fetched from the vendor. The engine puts them at the
        head of the page, so they are prepared, mapped and written in its transaction,
        before the records that need them; by default there are none."""
        return []

    def prepare(self, raws: list) -> None:  # noqa: B027 - optional hook, empty by default
        """Read what mapping this page's records needs (e.g. the members they refer to),
        once per page, before map() runs on them."""

    def map(self, raw):
        return raw

    def record_key(self, raw) -> str:
        """The record's key in sync issues: a typed record's `key`, a dict's "id"."""
        if isinstance(raw, dict):
            return str(raw.get("id", ""))
        return str(getattr(raw, "key", "") or "")

    @abstractmethod
    def apply(self, records: list) -> Counts:
        """Write one page of mapped records through the upsert services; the Counts name
        the clients whose access may have changed (UpsertResult.changed_client_ids)."""

    def finish(self, run: SyncRun) -> set[int] | None:  # noqa: B027 - optional hook, empty by default
        """Called once after the last page (e.g. to write a report); returns the clients
        whose access it changed, if any."""


class SyncAlreadyRunning(Exception):
    pass


def claim(*, state: SyncState, run: SyncRun) -> bool:
    """Take the sync for `run` with one conditional UPDATE; False when another run holds it.

    Taking it clears the wake flag (integrations.wakes): this run reads every change made
    before now, so only wakes from here on need another run."""
    now = timezone.now()
    return bool(
        SyncState.objects.filter(pk=state.pk)
        .filter(Q(claimed_by__isnull=True) | Q(lease_until__lt=now))
        .update(claimed_by=run, lease_until=now + _lease(), wake_queued_at=None)  # a queued wake is served
    )


def _release(state: SyncState, run: SyncRun, **changes) -> None:
    SyncState.objects.filter(pk=state.pk, claimed_by=run).update(
        claimed_by=None, lease_until=None, **changes
    )


def _issues_record(integration, run, job, bad: list[BadRecord]) -> None:
    """Store bad records as open SyncIssues, folding repeats of the same record."""
    if not bad:
        return
    now = timezone.now()
    keys = [b.key for b in bad if b.key]
    open_issues = {
        (i.record_key, i.reason): i
        for i in SyncIssue.objects.filter(
            integration=integration, sync_name=job.name, resolved_at__isnull=True, record_key__in=keys
        )
    }
    fresh, seen = [], []
    for b in bad:
        issue = open_issues.get((b.key, b.reason)) if b.key else None
        if issue is None:
            fresh.append(SyncIssue(
                integration=integration, run=run, sync_name=job.name, record_key=b.key,
                reason=b.reason, payload=b.payload, last_seen_at=now,
            ))
        else:
            issue.run, issue.payload, issue.last_seen_at = run, b.payload, now
            issue.occurrences += 1
            seen.append(issue)
    SyncIssue.objects.bulk_create(fresh)
    SyncIssue.objects.bulk_update(seen, ["run", "payload", "last_seen_at", "occurrences"])


def _pages_merged(job: SyncJob, cursor) -> Iterator[Page]:
    """The job's pages, consecutive ones merged up to job.page_rows records; a merged
    page's cursor is its last page's, its total the last one known."""
    if not job.page_rows:
        yield from job.pages(cursor)
        return
    records, total = [], None
    for page in job.pages(cursor):
        records += page.records
        total = page.total if page.total is not None else total
        if len(records) >= job.page_rows:
            yield Page(records, cursor=page.cursor, total=total)
            records = []
        cursor = page.cursor
    if records:
        yield Page(records, cursor=cursor, total=total)


def _apply_page(job: SyncJob, records: list, raws: list) -> tuple[Counts, list[BadRecord]]:
    """Apply a page (`records` mapped from `raws`, one each); if the database refuses it,
    apply it record by record to find the bad ones, so one record never costs the page."""
    try:
        with transaction.atomic():
            return job.apply(records), []
    except DatabaseError:
        logger.warning("sync=%s page refused by the database; retrying record by record", job.name)
    counts, bad = Counts(), []
    for record, raw in zip(records, raws, strict=True):
        try:
            with transaction.atomic():
                counts += job.apply([record])
        except DatabaseError as error:
            bad.append(BadRecord(f"The database refused it: {error}".strip()[:500], key=job.record_key(raw),
                                 payload=getattr(record, "payload", None) or _as_payload(record)))
    return counts, bad


def _payload_of(error: BadRecord, raw) -> Any:
    """What a sync issue keeps of a refused record: the mapping's choice, else the vendor's body
    (a typed record's `payload`), else the record itself."""
    if error.payload is not None:
        return error.payload
    return getattr(raw, "payload", raw)


def _as_payload(record) -> Any:
    if is_dataclass(record):
        return {k: (v if isinstance(v, (str, int, float, bool, type(None))) else str(v))
                for k, v in asdict(record).items()}
    return record if isinstance(record, (dict, list)) else str(record)


def sync_run(
    *,
    integration: Integration,
    sync_name: str,
    trigger: str = SyncRun.Trigger.SCHEDULE,
    options: dict | None = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> SyncRun:
    """Run one sync of one integration to the end of the vendor's data.

    Raises SyncAlreadyRunning when another run holds it. A vendor failure ends the run
    as failed (with the error, secrets redacted) and keeps every page committed so far;
    the next run starts from the last committed cursor.
    """
    options = options or {}
    connector = connector_for(integration)
    job = connector.sync_job(sync_name, options)
    state, _ = SyncState.objects.get_or_create(integration=integration, sync_name=job.state_name)
    previous_claimant = state.claimed_by_id
    run = SyncRun.objects.create(
        integration=integration, sync_name=sync_name, trigger=trigger, options=options,
        cursor_before=None if job.fresh_start else state.cursor,
    )
    if not claim(state=state, run=run):
        run.delete()
        raise SyncAlreadyRunning(f"{integration} {sync_name} is already running.")
    if previous_claimant:
        SyncRun.objects.filter(pk=previous_claimant, status=SyncRun.Status.RUNNING).update(
            status=SyncRun.Status.ABANDONED, finished_at=timezone.now(),
            error="The worker running it stopped; this run's lease ran out.",
        )
    cursor = run.cursor_before
    done, changed, written = 0, set(), 0
    try:
        for page in _pages_merged(job, cursor):
            raws = job.referred(page.records) + page.records
            job.prepare(raws)
            good, sources, bad = [], [], []
            for raw in raws:
                try:
                    good.append(job.map(raw))
                    sources.append(raw)  # its key is read only if the database refuses the page
                except BadRecord as error:
                    bad.append(BadRecord(error.reason, key=error.key or job.record_key(raw),
                                         payload=_payload_of(error, raw)))
            with transaction.atomic():
                commit_unflushed()  # safe: the page commits with its cursor (clients.bulk)
                counts, refused = _apply_page(job, good, sources)
                before, written = written, written + counts.created + counts.updated
                if job.written_models and any(before < mark <= written for mark in ANALYZE_AT):
                    tables_analyze(models=job.written_models)
                bad += refused
                _issues_record(integration, run, job, bad)
                counts.failed += len(bad)
                kept = SyncState.objects.filter(pk=state.pk, claimed_by=run).update(
                    cursor=page.cursor, lease_until=timezone.now() + _lease()
                )
                if not kept:
                    raise SyncAlreadyRunning("Another run took over this sync (lease expired).")
                SyncRun.objects.filter(pk=run.pk).update(
                    pages=F("pages") + 1, cursor_after=page.cursor,
                    **{k: F(k) + getattr(counts, k) for k in COUNTERS},
                )
            changed |= counts.changed_clients  # committed with its page
            cursor = page.cursor
            done += len(page.records)
            if progress:
                progress(done, page.total)
        run.refresh_from_db()
        changed |= job.finish(run) or set()
        run.status, run.finished_at = SyncRun.Status.SUCCEEDED, timezone.now()
        run.cursor_after = cursor
        run.save()
        _release(state, run, last_success_at=run.finished_at)
    except (VendorError, SyncAlreadyRunning) as error:
        _fail(run, state, connector, error)
    except Exception as error:
        if isinstance(error, DatabaseError):
            # The connection may be gone (a database restart): record the failure on a new one.
            connection.close()
        _fail(run, state, connector, error)
        raise
    finally:
        # Committed pages count even when a later page failed.
        access_changed_notify(client_ids=changed, origin=integration)
    logger.info("integration=%s %s", integration.pk, run.summary(), extra=run.log_fields())
    return run


def _fail(run: SyncRun, state: SyncState, connector, error: Exception) -> None:
    run.refresh_from_db()
    message = f"{type(error).__name__}: {error}"
    for secret in _secret_values(connector):
        message = message.replace(secret, "***")
    run.status, run.finished_at, run.error = SyncRun.Status.FAILED, timezone.now(), message[:2000]
    run.save()
    _release(state, run)
    logger.warning("integration=%s sync=%s failed: %s", run.integration_id, run.sync_name, message)


def _secret_values(connector) -> list[str]:
    try:
        return [v for v in connector.secrets.values() if isinstance(v, str) and v]
    except Exception:  # noqa: BLE001 - an undecryptable secret has nothing to redact
        return []


def records_apply(*, job: SyncJob, raws: list) -> Counts:
    """Map and write a few vendor records outside the cursor walk ("sync this member now").

    A bad record raises BadRecord; door systems are woken for the clients that changed.
    """
    raws = job.referred(raws) + raws
    job.prepare(raws)
    records = [job.map(raw) for raw in raws]
    with transaction.atomic():
        counts = job.apply(records)
    access_changed_notify(client_ids=counts.changed_clients, origin=job.connector.integration)
    return counts
