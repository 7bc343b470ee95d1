"""Momence's outbound syncs: Gatehouse's own tag changes, and check-ins after door accesses.

Both send through the framework's outbox (integrations.outbox). Walking its source rows
by id (ClientTagChange, DoorAccess), a sync first enqueues Deliveries (kind "tag_push"
keyed by client and tag, "checkin" keyed by booking) in the same transaction as its
cursor; then the outbox sends what is due and records every attempt. A delivery recorded
as sent is never sent again; one that failed is retried on later runs up to
MAX_ATTEMPTS (at once given up when retrying cannot help, e.g. a 404). A crash between
Momence's answer and the record would send one again, which both calls tolerate:
assigning a tag or checking a booking in twice changes nothing.

Ids are allocated before commit, so a row can become visible after one with a higher
id: each run reads again the last LOOKBACK_IDS ids below its cursor, which the
idempotency keys make harmless (one check-in per booking, one push per newer change).
"""

from abc import abstractmethod
from datetime import timedelta

from django.utils import timezone

from clients.models import ClientTagChange, Tag
from integrations.errors import AuthError, PermanentError, RateLimited, VendorError
from integrations.models import Delivery
from integrations.momence.records import BookingCheckIn, MemberTag
from integrations.momence.selectors import (
    checkins_for_accesses,
    door_access_start,
    door_accesses_after,
    momence_tags_by_tag,
    tag_changes_after,
)
from integrations.momence.syncs import MomenceJob, outbox_position
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

LOOKBACK_IDS = 500
BATCH = 500  # source rows read per page
SEND_BATCH = 50  # deliveries sent per page
HISTORY = timedelta(days=1)  # a new cursor starts with the rows of the last day
MAX_ATTEMPTS = 5  # a delivery that failed this often is given up
POLICY = Policy(max_attempts=MAX_ATTEMPTS, base=timedelta(0))  # retried at the next run
TAG_PUSH, CHECKIN = "tag_push", "checkin"


class OutboxSync(MomenceJob):
    kind: str
    enabled_setting = ""  # switched off, the cursor still walks but nothing is queued or sent

    def record_key(self, raw):
        return ""

    @abstractmethod
    def first_cursor(self) -> int:
        """The id a new cursor starts after."""

    @abstractmethod
    def plan(self, after: int) -> tuple[list[Planned], int | None]:
        """What the source rows after id `after` ask to deliver, and the last id read."""

    @abstractmethod
    def request(self, delivery: Delivery) -> str:
        """The call one delivery makes, method and path (shown in its attempts)."""

    @abstractmethod
    def send(self, client, delivery: Delivery) -> None:
        """Make one delivery at Momence (raises VendorError)."""

    def pages(self, cursor):
        # The cursor: {"id": the last source row read, "floor": no re-reading below it (the
        # start, or where the sync was switched off: what it skipped stays skipped)}.
        start = self.first_cursor() if cursor is None else outbox_position(cursor)
        floor = start if cursor is None else cursor.get("floor", 0)
        after = max(floor, start - LOOKBACK_IDS)
        position, enabled = start, self.connector.enabled(self.enabled_setting)
        while True:
            planned, last = self.plan(after)
            if last is None:
                break
            position = max(position, last)
            floor = floor if enabled else position
            yield Page(planned if enabled else [], cursor={"id": position, "floor": floor})
            after = last
        if enabled:
            yield from self.deliver({"id": position, "floor": floor})

    def deliver(self, position: dict):
        """Send the due deliveries, a page at a time; stop on refused credentials (after
        recording what was sent) or when Momence asks to slow down."""
        self.momence = self.connector.client()
        for results in deliveries_send_due(integration=self.integration, kinds=[self.kind],
                                           sender=self._send_one, policy=POLICY, limit=SEND_BATCH):
            yield Page(results, cursor=position)
            stop = next((r.stop for r in results if r.stop is not None), None)
            if isinstance(stop, AuthError):
                raise stop

    def _send_one(self, delivery: Delivery) -> DeliveryResult:
        request, started = self.request(delivery), timezone.now()
        try:
            self.send(self.momence, delivery)
        except AuthError as error:  # nothing was delivered: it stays due, the run stops
            return DeliveryResult(delivery, stop=error)
        except RateLimited as error:
            return DeliveryResult(delivery, [_failed(request, error, started)], stop=error)
        except PermanentError as error:
            return DeliveryResult(delivery, [_failed(request, error, started, retry=False)])
        except VendorError as error:  # timeouts, 5xx after the HTTP layer's retries
            return DeliveryResult(delivery, [_failed(request, error, started)])
        return DeliveryResult(delivery, [Call(ok=True, request=request, duration_ms=_ms(started))])

    def apply(self, records):
        if records and isinstance(records[0], DeliveryResult):
            return outcomes_record(results=records, policy=POLICY)
        return Counts(created=deliveries_enqueue(integration=self.integration, planned=records)
                      if records else 0)

    def finish(self, run):
        mine = Delivery.objects.filter(integration=self.integration, kind=self.kind)
        pending = mine.exclude(state__in=[Delivery.State.SENT, Delivery.State.GAVE_UP]).count()
        given_up = mine.filter(state=Delivery.State.GAVE_UP).count()
        run.report = (f"Queued {run.created}, sent {run.updated}, failed {run.failed} this run; "
                      f"{pending} pending, {given_up} given up in all.")


def _ms(started) -> int:
    return int((timezone.now() - started).total_seconds() * 1000)


def _failed(request: str, error: VendorError, started, retry: bool = True) -> Call:
    return Call(ok=False, request=request, status_code=getattr(error, "status_code", None),
                excerpt=str(error), error=f"{type(error).__name__}: {error}", duration_ms=_ms(started),
                retry=retry)


class TagPushSync(OutboxSync):
    """Tags Gatehouse added or removed (sequences, staff) -> assigned or unassigned at Momence,
    for this integration's clients and the tags Momence knows.

    One delivery per (client, tag): a newer change replaces an unsent older one, so Momence
    gets the client's latest state and never an add and a remove out of order."""

    kind = TAG_PUSH
    enabled_setting = "push_tags"

    def first_cursor(self):
        first = (ClientTagChange.objects.filter(at__gte=timezone.now() - HISTORY).order_by("pk")
                 .values_list("pk", flat=True).first())
        last = ClientTagChange.objects.order_by("-pk").values_list("pk", flat=True).first()
        return first - 1 if first is not None else (last or 0)

    def plan(self, after):
        changes, last = tag_changes_after(integration=self.integration, after=after, limit=BATCH)
        return [Planned(
            kind=TAG_PUSH, key=f"tag:{p.client_id}:{p.tag_id}", sync_name="tag-push", record_type="client",
            record_id=p.client_id, client_id=p.client_id, version=p.change_id,
            payload={"tag_id": p.tag_id, "action": p.action, "change_id": p.change_id},
        ) for p in changes], last

    def deliver(self, position):
        self.momence_tags = momence_tags_by_tag(integration=self.integration)
        yield from super().deliver(position)

    def request(self, delivery):
        verb = "POST" if delivery.payload["action"] == ClientTagChange.Action.ADD else "DELETE"
        tag = self.momence_tags.get(delivery.payload["tag_id"], "?")
        return f"{verb} host/members/{delivery.client.external_id if delivery.client else '?'}/tags/{tag}"

    def send(self, client, push):
        momence_tag = self.momence_tags.get(push.payload["tag_id"])
        if momence_tag is None:
            name = Tag.objects.filter(pk=push.payload["tag_id"]).values_list("name", flat=True).first()
            raise PermanentError(f"Momence no longer has the tag {name!r}.")
        tag = MemberTag(member_id=push.client.external_id, tag_id=momence_tag)
        if push.payload["action"] == ClientTagChange.Action.ADD:
            client.member_tag_add(tag)
        else:
            client.member_tag_remove(tag)


class CheckinsSync(OutboxSync):
    """Granted door accesses of this integration's clients -> check-ins of the session
    bookings they fall close to (from `checkin_minutes_before` the start to the end),
    once per booking."""

    kind = CHECKIN
    enabled_setting = "check_in"

    def first_cursor(self):
        return door_access_start(since=timezone.now() - HISTORY)

    def plan(self, after):
        accesses = door_accesses_after(source=self.source, after=after, limit=BATCH)
        if not accesses:
            return [], None
        before = timedelta(minutes=self.connector.checkin_minutes_before())
        planned = checkins_for_accesses(source=self.source, accesses=accesses, before_start=before)
        clients = dict(Booking.objects.filter(pk__in=[p.booking_id for p in planned])
                       .values_list("pk", "client_id"))
        return [Planned(
            kind=CHECKIN, key=f"checkin:booking:{p.booking_id}", sync_name="checkins", record_type="booking",
            record_id=p.booking_id, client_id=clients.get(p.booking_id),
            payload={"booking_ref": p.booking_ref, "door_access_id": p.door_access_id},
        ) for p in planned], accesses[-1][0]

    def request(self, delivery):
        return f"POST host/session-bookings/{delivery.payload['booking_ref']}/check-in"

    def send(self, client, delivery):
        client.session_booking_check_in(BookingCheckIn(booking_id=delivery.payload["booking_ref"]))
