"""The outbox: everything Gatehouse sends to a vendor, one engine for every vendor.

A vendor's outbound sync (Glofox and Momence check-ins, Momence tag pushes) first
enqueues Deliveries (`deliveries_enqueue`, idempotent by key) in the transaction of its
cursor, then sends the due ones: `deliveries_claim` takes them with one conditional
UPDATE (state "sending" with a lease and a token), the vendor's sender makes the calls
(`delivery_send`), and `outcomes_record` keeps each call as a DeliveryAttempt and the
delivery's new state. A failure is retried with exponential backoff (capped) and given up
after `Policy.max_attempts` (settings.OUTBOX_MAX_ATTEMPTS unless the vendor says fewer).

Never twice: a sent delivery is never claimed again, and the record step only touches a
delivery still holding its claim token. A worker that dies between the vendor's answer
and the record leaves the lease to expire; the delivery is then sent again only when
its vendor call tolerates a repeat (`resend_interrupted`, declared per delivery by the
vendor), otherwise it is given up with the reason shown to staff.
"""

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from integrations.models import Delivery, DeliveryAttempt, Integration, SyncRun
from integrations.queue import task_queue
from integrations.sync import Counts

EXCERPT_CHARS = 300
LEASE = timedelta(minutes=5)  # longer than any one delivery's calls can take
INTERRUPTED = "Interrupted while sending (the vendor may have received it); not sent again."


@dataclass(frozen=True)
class Policy:
    """How a vendor's deliveries are retried: base * 2**(n-1) after the n-th failure, at most
    `cap`, given up after `max_attempts`."""

    max_attempts: int = 0  # 0: settings.OUTBOX_MAX_ATTEMPTS
    base: timedelta = timedelta(minutes=1)
    cap: timedelta = timedelta(hours=6)

    def attempts_allowed(self) -> int:
        return self.max_attempts or settings.OUTBOX_MAX_ATTEMPTS

    def delay(self, attempts: int) -> timedelta:
        return min(self.cap, self.base * 2 ** max(0, attempts - 1))


@dataclass(frozen=True)
class Planned:
    """A delivery to enqueue; `version` > the stored one's replaces its payload (the latest wins)."""

    kind: str
    key: str
    payload: dict
    sync_name: str
    record_type: str = ""
    record_id: int | None = None
    client_id: int | None = None
    version: int = 0
    due_at: object = None
    resend_interrupted: bool = True


@dataclass
class Call:
    """One call a sender made: what it asked (method + path, no secret), what came back."""

    ok: bool
    request: str = ""
    status_code: int | None = None
    excerpt: str = ""
    duration_ms: int = 0
    step: str = ""
    error: str = ""
    retry: bool = True  # False: retrying cannot help (e.g. a 404), give up now


@dataclass
class DeliveryResult:
    """What sending one delivery produced; `stop` ends the batch (refused credentials, slow down)."""

    delivery: Delivery
    calls: list[Call] = field(default_factory=list)
    stop: Exception | None = None

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.calls)  # no call: nothing was left to send


def deliveries_enqueue(*, integration: Integration, planned: list[Planned]) -> int:
    """Store planned deliveries, one per key: a key already stored is left alone unless the
    plan is a newer version (then it is sent again with the new payload). Returns how many
    were created or replaced."""
    latest: dict[str, Planned] = {}
    for plan in sorted(planned, key=lambda p: p.version):
        latest[plan.key] = plan
    if not latest:
        return 0
    known = dict(Delivery.objects.filter(integration=integration, key__in=list(latest))
                 .values_list("key", "version"))
    now = timezone.now()
    fresh = [p for key, p in latest.items() if key not in known]
    newer = [p for key, p in latest.items() if key in known and known[key] < p.version]
    Delivery.objects.bulk_create([_delivery(integration, p, now) for p in fresh], ignore_conflicts=True)
    for plan in newer:
        Delivery.objects.filter(integration=integration, key=plan.key, version__lt=plan.version).update(
            payload=plan.payload, version=plan.version, state=Delivery.State.PENDING, attempts=0,
            next_attempt_at=plan.due_at or now, lease_until=None, claim_token="", last_error="",
            sent_at=None, updated_at=now)
    return len(fresh) + len(newer)


def _delivery(integration: Integration, plan: Planned, now) -> Delivery:
    return Delivery(
        integration=integration, kind=plan.kind, key=plan.key, payload=plan.payload, sync_name=plan.sync_name,
        record_type=plan.record_type, record_id=plan.record_id, client_id=plan.client_id, version=plan.version,
        next_attempt_at=plan.due_at or now, resend_interrupted=plan.resend_interrupted, created_at=now,
    )


def deliveries_claim(*, integration: Integration, kinds: list[str], limit: int,
                     due_by=None) -> list[Delivery]:
    """Take up to `limit` deliveries of these kinds due by `due_by` (default now; oldest
    due first) for this worker: one conditional UPDATE, so two workers never hold the same one."""
    now, token = timezone.now(), uuid.uuid4().hex
    mine = Delivery.objects.filter(integration=integration, kind__in=kinds)
    _interrupted_settle(mine, now)
    claimable = (Q(state__in=[Delivery.State.PENDING, Delivery.State.FAILED], next_attempt_at__lte=due_by or now)
                 | Q(state=Delivery.State.SENDING, lease_until__lt=now, resend_interrupted=True))
    due = list(mine.filter(claimable).order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])
    with transaction.atomic():
        mine.filter(claimable, pk__in=due).update(state=Delivery.State.SENDING, lease_until=now + LEASE,
                                                  claim_token=token, updated_at=now)
    return list(Delivery.objects.filter(claim_token=token).select_related("client").order_by("pk"))


def _interrupted_settle(deliveries, now) -> None:
    """A lease that expired on a call that must not be repeated: give it up, say why."""
    deliveries.filter(state=Delivery.State.SENDING, lease_until__lt=now, resend_interrupted=False).update(
        state=Delivery.State.GAVE_UP, lease_until=None, claim_token="", next_attempt_at=None,
        last_error=INTERRUPTED, updated_at=now)


def delivery_send(*, delivery: Delivery, sender: Callable[[Delivery], DeliveryResult]) -> DeliveryResult:
    """Run the vendor's sender for a claimed delivery; an unexpected error is a failed call."""
    started = time.monotonic()
    try:
        return sender(delivery)
    except Exception as error:  # noqa: BLE001 - one delivery's bug must not lose the others' records
        return DeliveryResult(delivery, [Call(
            ok=False, error=f"{type(error).__name__}: {error}"[:EXCERPT_CHARS],
            duration_ms=int((time.monotonic() - started) * 1000))])


def outcomes_record(*, results: list[DeliveryResult], policy: Policy) -> Counts:
    """Keep every call as an attempt and each delivery's new state (call in a transaction).
    Counts: updated = sent, failed = failed or given up."""
    if not results:
        return Counts()
    now, counts = timezone.now(), Counts()
    hide = _secrets_of(results[0].delivery.integration)
    attempts = []
    for result in results:
        delivery = result.delivery
        for call in result.calls:
            attempts.append(DeliveryAttempt(
                delivery=delivery, step=call.step[:32], ok=call.ok, status_code=call.status_code,
                request=_redact(call.request, hide), response_excerpt=_redact(call.excerpt, hide),
                error=_redact(call.error, hide), duration_ms=call.duration_ms,
                started_at=now - timedelta(milliseconds=call.duration_ms)))
        _settle(delivery, result, policy, now, hide)
        if not result.calls and result.stop is not None:
            continue  # released untried: neither sent nor failed
        if result.ok:
            counts.updated += 1
        else:
            counts.failed += 1
    DeliveryAttempt.objects.bulk_create(attempts)
    for result in results:
        delivery = result.delivery
        # Only a delivery still holding this claim: a newer version enqueued meanwhile stays pending.
        Delivery.objects.filter(pk=delivery.pk, claim_token=delivery.claim_token).update(
            state=delivery.state, attempts=delivery.attempts, next_attempt_at=delivery.next_attempt_at,
            sent_at=delivery.sent_at, last_error=delivery.last_error, lease_until=None, claim_token="",
            updated_at=now)
    return counts


def _settle(delivery: Delivery, result: DeliveryResult, policy: Policy, now, hide: list[str]) -> None:
    if not result.calls and result.stop is not None:  # nothing was tried: it stays due
        delivery.state = Delivery.State.PENDING
        return
    delivery.attempts += 1
    if result.ok:
        delivery.state, delivery.sent_at = Delivery.State.SENT, now
        delivery.next_attempt_at, delivery.last_error = None, ""
        return
    failed = next(c for c in result.calls if not c.ok)
    delivery.last_error = _redact(failed.error or failed.excerpt, hide)
    if not failed.retry or delivery.attempts >= policy.attempts_allowed():
        delivery.state, delivery.next_attempt_at = Delivery.State.GAVE_UP, None
    else:
        delivery.state, delivery.next_attempt_at = Delivery.State.FAILED, now + policy.delay(delivery.attempts)


def deliveries_send_due(*, integration: Integration, kinds: list[str], sender, policy: Policy,
                        limit: int = 50):
    """Claim and send due deliveries a page at a time; yields each page's results for the
    caller to record (`outcomes_record`, in its page's transaction) before the next claim,
    and stops after a page whose sender asked to stop."""
    started = timezone.now()  # one round: what fails now is not claimed again by this call
    while claimed := deliveries_claim(integration=integration, kinds=kinds, limit=limit, due_by=started):
        results = []
        for delivery in claimed:
            if results and results[-1].stop is not None:
                results.append(DeliveryResult(delivery, stop=results[-1].stop))  # released, still due
                continue
            results.append(delivery_send(delivery=delivery, sender=sender))
        yield results
        if any(r.stop is not None for r in results):
            return


def deliveries_retry(*, deliveries) -> int:
    """Make failed and given-up deliveries due now (a sent one never is) and wake the syncs
    that send them; returns how many."""
    chosen = list(deliveries.filter(state__in=[Delivery.State.FAILED, Delivery.State.GAVE_UP])
                  .values_list("pk", "integration_id", "sync_name"))
    count = Delivery.objects.filter(pk__in=[pk for pk, _, _ in chosen]).update(
        state=Delivery.State.PENDING, attempts=0, next_attempt_at=timezone.now(), updated_at=timezone.now())
    for integration_id, sync_name in sorted({(i, s) for _, i, s in chosen}):
        task_queue("integrations.tasks.sync_task", integration_id, sync_name, SyncRun.Trigger.MANUAL,
                   task_name=f"integration {integration_id}: {sync_name} retried")
    return count


def _secrets_of(integration: Integration) -> list[str]:
    return [v for v in integration.stored_secrets().values.values() if isinstance(v, str) and len(v) >= 4]


def _redact(text: str, hide: list[str]) -> str:
    for secret in hide:
        text = text.replace(secret, "***")
    return text[:EXCERPT_CHARS]
