"""Momence's outbound syncs: Gatehouse's own tag changes, and check-ins after door accesses.

Both are outboxes. Walking its source rows by id (ClientTagChange, DoorAccess), a sync
first queues deliveries (TagPush, CheckinDelivery) in the same transaction as its
cursor; then it sends what is pending and records every attempt. A delivery recorded
as sent is never sent again; one that failed is retried on later runs up to
services.MAX_ATTEMPTS (at once given up when retrying cannot help, e.g. a 404). A
crash between Momence's answer and the record would send one again, which both calls
tolerate: assigning a tag or checking a booking in twice changes nothing.

Ids are allocated before commit, so a row can become visible after one with a higher
id: each run reads again the last LOOKBACK_IDS ids below its cursor, which the
delivery records make harmless (one check-in per booking, one push per newer change).
"""

from abc import abstractmethod
from datetime import timedelta

from django.utils import timezone

from clients.models import ClientTagChange
from integrations.errors import AuthError, PermanentError, RateLimited, VendorError
from integrations.momence.models import CheckinDelivery, Delivery, TagPush
from integrations.momence.selectors import (
    checkins_for_accesses,
    deliveries_due,
    door_access_start,
    door_accesses_after,
    momence_tags_by_tag,
    tag_changes_after,
)
from integrations.momence.services import Outcome, checkins_plan, deliveries_record, tag_pushes_plan
from integrations.momence.syncs import MomenceJob, outbox_position
from integrations.sync import Counts, Page

LOOKBACK_IDS = 500
BATCH = 500  # source rows read per page
SEND_BATCH = 50  # deliveries sent per page
HISTORY = timedelta(days=1)  # a new cursor starts with the rows of the last day


class OutboxSync(MomenceJob):
    model: type[Delivery]
    enabled_setting = ""  # switched off, the cursor still walks but nothing is queued or sent

    def record_key(self, raw):
        return ""

    @abstractmethod
    def first_cursor(self) -> int:
        """The id a new cursor starts after."""

    @abstractmethod
    def plan(self, after: int) -> tuple[list, int | None]:
        """What the source rows after id `after` ask to deliver, and the last id read."""

    @abstractmethod
    def queue(self, planned: list) -> int:
        """Store planned deliveries; returns how many are new."""

    @abstractmethod
    def send(self, client, delivery) -> None:
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
        """Send the pending deliveries, a page at a time; stop on refused credentials
        (after recording what was sent) or when Momence asks to slow down."""
        client = self.connector.client()
        last = 0
        while due := deliveries_due(model=self.model, integration=self.integration, after=last,
                                    limit=SEND_BATCH):
            outcomes, stop = [], None
            for delivery in due:
                last = delivery.pk
                try:
                    self.send(client, delivery)
                    outcomes.append(Outcome(delivery.pk, sent=True))
                except AuthError as error:
                    stop = error
                    break
                except RateLimited as error:
                    outcomes.append(Outcome(delivery.pk, sent=False, error=str(error)))
                    stop = error
                    break
                except PermanentError as error:
                    outcomes.append(Outcome(delivery.pk, sent=False, error=str(error), retry=False))
                except VendorError as error:  # timeouts, 5xx after the HTTP layer's retries
                    outcomes.append(Outcome(delivery.pk, sent=False, error=str(error)))
            yield Page(outcomes, cursor=position)
            if isinstance(stop, AuthError):
                raise stop
            if stop is not None:
                return

    def apply(self, records):
        if records and isinstance(records[0], Outcome):
            sent, failed = deliveries_record(model=self.model, outcomes=records)
            return Counts(updated=sent, failed=failed)
        return Counts(created=self.queue(records) if records else 0)

    def finish(self, run):
        mine = self.model.objects.filter(integration=self.integration)
        pending = mine.filter(status=Delivery.Status.PENDING).count()
        given_up = mine.filter(status=Delivery.Status.FAILED).count()
        run.report = (f"Queued {run.created}, sent {run.updated}, failed {run.failed} this run; "
                      f"{pending} pending, {given_up} given up in all.")


class TagPushSync(OutboxSync):
    """Tags Gatehouse added or removed (sequences, staff) -> assigned or unassigned at Momence,
    for this integration's clients and the tags Momence knows."""

    model = TagPush
    enabled_setting = "push_tags"

    def first_cursor(self):
        first = (ClientTagChange.objects.filter(at__gte=timezone.now() - HISTORY).order_by("pk")
                 .values_list("pk", flat=True).first())
        last = ClientTagChange.objects.order_by("-pk").values_list("pk", flat=True).first()
        return first - 1 if first is not None else (last or 0)

    def plan(self, after):
        return tag_changes_after(integration=self.integration, after=after, limit=BATCH)

    def queue(self, planned):
        return tag_pushes_plan(integration=self.integration, planned=planned)

    def deliver(self, position):
        self.momence_tags = momence_tags_by_tag(integration=self.integration)
        yield from super().deliver(position)

    def send(self, client, push):
        momence_tag = self.momence_tags.get(push.tag_id)
        if momence_tag is None:
            raise PermanentError(f"Momence no longer has the tag {push.tag.name!r}.")
        if push.action == TagPush.Action.ADD:
            client.member_tag_add(push.client.external_id, momence_tag)
        else:
            client.member_tag_remove(push.client.external_id, momence_tag)


class CheckinsSync(OutboxSync):
    """Granted door accesses of this integration's clients -> check-ins of the session
    bookings they fall close to (from `checkin_minutes_before` the start to the end),
    once per booking."""

    model = CheckinDelivery
    enabled_setting = "check_in"

    def first_cursor(self):
        return door_access_start(since=timezone.now() - HISTORY)

    def plan(self, after):
        accesses = door_accesses_after(source=self.source, after=after, limit=BATCH)
        if not accesses:
            return [], None
        before = timedelta(minutes=self.connector.checkin_minutes_before())
        planned = checkins_for_accesses(source=self.source, accesses=accesses, before_start=before)
        return planned, accesses[-1][0]

    def queue(self, planned):
        return checkins_plan(integration=self.integration, planned=planned)

    def send(self, client, delivery):
        client.session_booking_check_in(delivery.booking_ref)
