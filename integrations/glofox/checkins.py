"""Check-ins: door accesses of members who have access through Glofox, sent to Glofox once.

The "checkins" sync has two steps, both driven by the sync engine:

1. Walk: a cursor walks new DoorAccess rows by id. Each granted entry at a door whose
   location is a configuration's Kisi place location, by a client of this integration
   whom one of its configurations' rules grants access at that moment, gets one
   CheckinDelivery (unique per door access), written in the same transaction as the
   cursor. Ids that were missing when the walk passed them (a transaction that had
   not committed yet) are looked at again for a while, so a late commit is not lost.
2. Send: due deliveries are claimed (one conditional UPDATE), sent (POST 2.0/access,
   then POST 2.0/attendances when the member holds a booking close to the entry), and
   each call is kept as a CheckinAttempt written in the same transaction as the
   delivery's new status. A failure is retried with exponential backoff.

Delivery is at least once in one narrow case: a worker that dies after Glofox accepted
a call and before its transaction commits leaves the claim to expire, and the call is
sent again. Every other path sends each call exactly once.
"""

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from accessctl.models import DoorAccess
from accessctl.selectors import access_expected
from integrations.glofox.client import CallResult
from integrations.glofox.models import CheckinAttempt, CheckinDelivery
from integrations.glofox.syncs import GlofoxJob
from integrations.sync import Counts, Page
from packages.models import Booking

WALK_PAGE = 500
SEND_PAGE = 50
GAP_PATIENCE = timedelta(minutes=10)  # how long a missing id may still commit
CLAIM = timedelta(minutes=5)  # longer than any one delivery's calls can take
RETRY_BASE = timedelta(minutes=1)
RETRY_MAX = timedelta(hours=6)
MAX_ATTEMPTS = 10
RUN_LIMIT = timedelta(seconds=50)  # walk again while new accesses arrive, up to this


def retry_delay(attempts: int) -> timedelta:
    """1, 2, 4, ... minutes after the n-th failed attempt, at most 6 hours."""
    return min(RETRY_MAX, RETRY_BASE * 2 ** max(0, attempts - 1))


@dataclass
class Outcome:
    """What sending one claimed delivery produced."""

    delivery: CheckinDelivery
    attempts: list[CheckinAttempt] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(a.ok for a in self.attempts)  # no attempt: nothing was left to send


class CheckinsSync(GlofoxJob):
    """Walk new door accesses into deliveries, then send the deliveries that are due."""

    def record_key(self, raw) -> str:
        if isinstance(raw, Outcome):
            return str(raw.delivery.pk)
        return str(raw.door_access_id) if isinstance(raw, CheckinDelivery) else ""

    def map(self, raw):
        return raw

    @cached_property
    def by_location(self) -> dict[int, object]:
        return {c.location_id: c for c in self.configurations.values()}

    def pages(self, cursor):
        if cursor is None:
            # Entries from before the integration existed are history, not check-ins.
            first = DoorAccess.objects.filter(created_at__lt=self.connector.integration.created_at)
            cursor = {"after": first.aggregate(last=Max("pk"))["last"] or 0, "gaps": {}}
        started = timezone.now()
        while True:
            walked = False
            for deliveries, walked_to in self._walk(cursor):
                walked, cursor = True, walked_to
                yield Page(deliveries, cursor=walked_to)
            yield from self._send(cursor)
            # Accesses recorded while we sent: take them now rather than at the next run.
            if not walked or timezone.now() - started > RUN_LIMIT:
                return

    # walk -------------------------------------------------------------------
    def _walk(self, cursor: dict):
        while True:
            gaps = {int(k): v for k, v in cursor["gaps"].items()}
            rows = list(DoorAccess.objects.filter(Q(pk__gt=cursor["after"]) | Q(pk__in=list(gaps)))
                        .order_by("pk").values("pk", "client_id", "door__location_id", "door__title",
                                               "accessed_at", "granted", "client__source",
                                               "client__external_id")[:WALK_PAGE])
            fresh = [r for r in rows if r["pk"] > cursor["after"]]
            if not fresh and not any(r["pk"] in gaps for r in rows):
                return
            seen = {r["pk"] for r in rows}
            now = timezone.now()
            top = max((r["pk"] for r in fresh), default=cursor["after"])
            still = {pk: at for pk, at in gaps.items()
                     if pk not in seen and now - datetime.fromisoformat(at) < GAP_PATIENCE}
            # Ids skipped near the head belong to transactions still open (or rolled back).
            still.update({pk: now.isoformat() for pk in range(max(cursor["after"] + 1, top - 1000), top)
                          if pk not in seen})
            cursor = {"after": top, "gaps": {str(k): v for k, v in sorted(still.items())[-1000:]}}
            yield self._deliveries(rows), cursor
            if len(rows) < WALK_PAGE:
                return

    def _deliveries(self, rows: list[dict]) -> list[CheckinDelivery]:
        """The entries that are check-ins of this integration, as unsaved deliveries."""
        candidates = [r for r in rows if r["granted"] and r["client__source"] == self.source
                      and r["door__location_id"] in self.by_location]
        if not candidates:
            return []
        granted = self._granted(candidates)
        bookings = self._close_bookings([r for r in candidates if r["pk"] in granted])
        return [CheckinDelivery(
            door_access_id=r["pk"], integration=self.connector.integration,
            configuration=self.by_location[r["door__location_id"]],
            branch_id=self.by_location[r["door__location_id"]].branch_id,
            member_id=r["client__external_id"] or "", event_id=bookings.get(r["pk"], ""),
            entry_at=r["accessed_at"], door_name=(r["door__title"] or "")[:200],
            next_attempt_at=r["accessed_at"],
        ) for r in candidates if r["pk"] in granted]

    def _granted(self, rows: list[dict]) -> set[int]:
        """Door accesses whose client one of our configurations' rules grants at that moment."""
        owners = [c.owner for c in self.configurations.values()]
        by_minute = defaultdict(list)
        for row in rows:
            by_minute[row["accessed_at"].replace(second=0, microsecond=0)].append(row)
        granted = set()
        for group in by_minute.values():
            expected = access_expected(client_ids=sorted({r["client_id"] for r in group}),
                                       now=max(r["accessed_at"] for r in group), owners=owners)
            for row in group:
                windows = expected.get(row["client_id"], {}).values()
                if any(w.unbounded or w.valid_from <= row["accessed_at"] <= w.valid_until for w in windows):
                    granted.add(row["pk"])
        return granted

    def _close_bookings(self, rows: list[dict]) -> dict[int, str]:
        """The Glofox class each entry attends: booked at that location, the entry between the
        configuration's minutes before its start (the booking rule's window) and its end; the
        nearest start wins."""
        if not rows:
            return {}
        ahead = {location_id: timedelta(minutes=c.booking_minutes_before)
                 for location_id, c in self.by_location.items()}
        before = max(ahead.values())
        low, high = min(r["accessed_at"] for r in rows), max(r["accessed_at"] for r in rows)
        found = defaultdict(list)
        for client_id, location_id, event_id, start, end in Booking.objects.filter(
            source=self.source, status=Booking.Status.BOOKED, client_id__in={r["client_id"] for r in rows},
            session__location_id__in={r["door__location_id"] for r in rows},
            session__start__lte=high + before, session__end__gte=low,
        ).values_list("client_id", "session__location_id", "session__external_id", "session__start",
                      "session__end"):
            found[(client_id, location_id)].append((start, end, event_id))
        chosen = {}
        for row in rows:
            at = row["accessed_at"]
            close = [(abs(start - at), event_id) for start, end, event_id in
                     found[(row["client_id"], row["door__location_id"])]
                     if start - ahead[row["door__location_id"]] <= at <= end]
            if close:
                chosen[row["pk"]] = min(close)[1] or ""
        return chosen

    # send -------------------------------------------------------------------
    def _send(self, cursor: dict):
        while True:
            claimed = self._claim()
            if not claimed:
                return
            yield Page([self._deliver(d) for d in claimed], cursor=cursor)

    def _claim(self) -> list[CheckinDelivery]:
        """Take up to a page of due deliveries with one conditional UPDATE (autocommitted)."""
        now, token = timezone.now(), uuid.uuid4().hex
        due = (CheckinDelivery.objects.filter(
            integration=self.connector.integration,
            status__in=[CheckinDelivery.Status.PENDING, CheckinDelivery.Status.FAILED],
            next_attempt_at__lte=now).filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:SEND_PAGE])
        with transaction.atomic():
            CheckinDelivery.objects.filter(pk__in=list(due)).filter(
                Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
                status__in=[CheckinDelivery.Status.PENDING, CheckinDelivery.Status.FAILED],
            ).update(claimed_until=now + CLAIM, claim_token=token)
        return list(CheckinDelivery.objects.filter(claim_token=token).order_by("pk"))

    def _deliver(self, delivery: CheckinDelivery) -> Outcome:
        """Send what the delivery still lacks; the entry first, then the class attendance."""
        outcome = Outcome(delivery)
        if delivery.access_sent_at is None:
            result = self.client.access_create(branch=delivery.branch_id, user_id=delivery.member_id,
                                               entry_at=delivery.entry_at, door=delivery.door_name)
            outcome.attempts.append(self._attempt(delivery, CheckinAttempt.Step.ACCESS, result))
            if not result.ok:
                return outcome
        if delivery.event_id and delivery.attendance_sent_at is None:
            result = self.client.attendance_create(branch=delivery.branch_id, user_id=delivery.member_id,
                                                   event_id=delivery.event_id, attended_at=delivery.entry_at)
            outcome.attempts.append(self._attempt(delivery, CheckinAttempt.Step.ATTENDANCE, result))
        return outcome

    @staticmethod
    def _attempt(delivery, step: str, result: CallResult) -> CheckinAttempt:
        return CheckinAttempt(
            delivery=delivery, step=step, ok=result.ok, status_code=result.status_code,
            response_excerpt=result.excerpt, duration_ms=result.duration_ms,
            started_at=timezone.now() - timedelta(milliseconds=result.duration_ms),
        )

    # apply ------------------------------------------------------------------
    def apply(self, records: list) -> Counts:
        deliveries = [r for r in records if isinstance(r, CheckinDelivery)]
        outcomes = [r for r in records if isinstance(r, Outcome)]
        counts = Counts()
        if deliveries:
            made = CheckinDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
            counts.created += len(made)
        if outcomes:
            counts += self._outcomes_record(outcomes)
        return counts

    def _outcomes_record(self, outcomes: list[Outcome]) -> Counts:
        """Keep every attempt and the delivery's new state, in the page's transaction."""
        now, counts = timezone.now(), Counts()
        CheckinAttempt.objects.bulk_create([a for o in outcomes for a in o.attempts])
        for outcome in outcomes:
            delivery = outcome.delivery
            delivery.attempts += 1
            for attempt in outcome.attempts:
                if attempt.ok and attempt.step == CheckinAttempt.Step.ACCESS:
                    delivery.access_sent_at = attempt.started_at
                if attempt.ok and attempt.step == CheckinAttempt.Step.ATTENDANCE:
                    delivery.attendance_sent_at = attempt.started_at
            delivery.claimed_until, delivery.claim_token = None, ""
            if outcome.ok:
                delivery.status, delivery.sent_at = CheckinDelivery.Status.SENT, now
                delivery.next_attempt_at, delivery.last_error = None, ""
                counts.updated += 1
                continue
            failed = next(a for a in outcome.attempts if not a.ok)
            delivery.last_error = failed.response_excerpt
            if delivery.attempts >= MAX_ATTEMPTS:
                delivery.status, delivery.next_attempt_at = CheckinDelivery.Status.GAVE_UP, None
            else:
                delivery.status = CheckinDelivery.Status.FAILED
                delivery.next_attempt_at = now + retry_delay(delivery.attempts)
            counts.failed += 1
        CheckinDelivery.objects.bulk_update([o.delivery for o in outcomes], [
            "attempts", "access_sent_at", "attendance_sent_at", "claimed_until", "claim_token", "status",
            "sent_at", "next_attempt_at", "last_error"])
        return counts
