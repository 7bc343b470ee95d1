"""Check-ins: door accesses of members who have access through Glofox, sent to Glofox once.

The "checkins" sync has two steps, both driven by the sync engine, the sending through
the framework's outbox (integrations.outbox):

1. Walk: a cursor walks new DoorAccess rows by id. Each granted entry at a door whose
   location is a configuration's Kisi place location, by a client of this integration
   whom one of its configurations' rules grants access at that moment, gets one
   Delivery (kind "checkin", keyed by the door access), written in the same transaction
   as the cursor. Ids that were missing when the walk passed them (a transaction that
   had not committed yet) are looked at again for a while, so a late commit is not lost.
2. Send: the outbox claims the due deliveries; each is sent (POST 2.0/access, then POST
   2.0/attendances when the member holds a booking close to the entry), and each call
   is kept as a DeliveryAttempt written in the same transaction as the delivery's new
   state. A failure is retried with exponential backoff; a call that succeeded is not
   made again.

Delivery is at least once in one narrow case: a worker that dies after Glofox accepted
a call and before its transaction commits leaves the lease to expire, and the call is
sent again (`resend_interrupted`: a doubled entry in Glofox beats a lost check-in).
Every other path sends each call exactly once.
"""

from collections import defaultdict
from datetime import datetime, timedelta
from functools import cached_property

from django.db.models import Max, Q
from django.utils import timezone

from accessctl.models import DoorAccess
from accessctl.selectors import Entry, accesses_granted_by
from integrations.glofox.client import Attendance, CallResult, CheckIn
from integrations.glofox.syncs import GlofoxJob
from integrations.models import Delivery
from integrations.outbox import (
    Call,
    DeliveryResult,
    Planned,
    Policy,
    deliveries_enqueue,
    deliveries_send_due,
    outcomes_record,
)
from integrations.sync import Counts, Page
from packages.models import Booking

KIND = "checkin"
WALK_PAGE = 500
SEND_PAGE = 50
GAP_PATIENCE = timedelta(minutes=10)  # how long a missing id may still commit
POLICY = Policy(base=timedelta(minutes=1), cap=timedelta(hours=6))  # OUTBOX_MAX_ATTEMPTS tries
RUN_LIMIT = timedelta(seconds=50)  # walk again while new accesses arrive, up to this
ACCESS, ATTENDANCE = "access", "attendance"  # the two calls of a check-in (DeliveryAttempt.step)


def retry_delay(attempts: int) -> timedelta:
    """1, 2, 4, ... minutes after the n-th failed attempt, at most 6 hours."""
    return POLICY.delay(attempts)


class CheckinsSync(GlofoxJob):
    """Walk new door accesses into deliveries, then send the deliveries that are due."""

    def record_key(self, raw) -> str:
        if isinstance(raw, DeliveryResult):
            return str(raw.delivery.pk)
        return raw.key if isinstance(raw, Planned) else ""

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
            for results in deliveries_send_due(integration=self.connector.integration, kinds=[KIND],
                                               sender=self._deliver, policy=POLICY, limit=SEND_PAGE):
                yield Page(results, cursor=cursor)
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

    def _deliveries(self, rows: list[dict]) -> list[Planned]:
        """The entries that are check-ins of this integration, as deliveries to enqueue."""
        candidates = [r for r in rows if r["granted"] and r["client__source"] == self.source
                      and r["door__location_id"] in self.by_location]
        if not candidates:
            return []
        granted = self._granted(candidates)
        bookings = self._close_bookings([r for r in candidates if r["pk"] in granted])
        return [self._planned(r, self.by_location[r["door__location_id"]], bookings.get(r["pk"], ""))
                for r in candidates if r["pk"] in granted]

    def _planned(self, row: dict, configuration, event_id: str) -> Planned:
        return Planned(
            kind=KIND, key=f"checkin:{row['pk']}", sync_name="checkins", record_type="door_access",
            record_id=row["pk"], client_id=row["client_id"], due_at=row["accessed_at"], payload={
                "branch_id": configuration.branch_id, "configuration_id": configuration.pk,
                "member_id": row["client__external_id"] or "", "event_id": event_id,
                "entry_at": row["accessed_at"].isoformat(), "door_name": (row["door__title"] or "")[:200],
            })

    def _granted(self, rows: list[dict]) -> set[int]:
        """Door accesses whose client one of our configurations' rules grants at that moment:
        asked of accessctl (the decision the door system's groups were filled from), not
        decided again here."""
        return accesses_granted_by(owners=[c.owner for c in self.configurations.values()], entries=[
            Entry(access_id=r["pk"], client_id=r["client_id"], at=r["accessed_at"]) for r in rows])

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
    def _deliver(self, delivery: Delivery) -> DeliveryResult:
        """Send what the delivery still lacks; the entry first, then the class attendance."""
        sent = set(delivery.attempt_log.filter(ok=True).values_list("step", flat=True))
        payload, result = delivery.payload, DeliveryResult(delivery)
        entry_at = datetime.fromisoformat(payload["entry_at"])
        if ACCESS not in sent:
            call = self.client.access_create(CheckIn(branch=payload["branch_id"], member_id=payload["member_id"],
                                                     entry_at=entry_at, door=payload["door_name"]))
            result.calls.append(_call(ACCESS, "POST 2.0/access", call))
            if not call.ok:
                return result
        if payload["event_id"] and ATTENDANCE not in sent:
            call = self.client.attendance_create(Attendance(
                branch=payload["branch_id"], member_id=payload["member_id"], class_id=payload["event_id"],
                attended_at=entry_at))
            result.calls.append(_call(ATTENDANCE, "POST 2.0/attendances", call))
        return result

    # apply ------------------------------------------------------------------
    def apply(self, records: list) -> Counts:
        planned = [r for r in records if isinstance(r, Planned)]
        results = [r for r in records if isinstance(r, DeliveryResult)]
        counts = Counts()
        if planned:
            counts.created += deliveries_enqueue(integration=self.connector.integration, planned=planned)
        if results:
            counts += outcomes_record(results=results, policy=POLICY)
        return counts


def _call(step: str, request: str, result: CallResult) -> Call:
    return Call(ok=result.ok, request=request, status_code=result.status_code, excerpt=result.excerpt,
                duration_ms=result.duration_ms, step=step)
