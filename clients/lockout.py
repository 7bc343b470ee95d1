"""Member login attempts, reserved atomically before any password check, and the lockout.

Counters are database rows keyed by digests (settings.MEMBER_LOCKOUT), one per:
- identifier + IP: after a few failures that pair is locked for a while. It locks the
  guesser's address out, not the member, who logs in from elsewhere as usual.
- identifier alone (guessing from many addresses): past a threshold each failure delays
  the next attempt, 2 s, 4 s, 8 s ..., never more than a few minutes, and an address
  the identifier logged in from recently is not delayed at all.
- identifier + device: a device that logged in to the identifier (a device id the app
  sends; a signed cookie's value for the web) is trusted for `trusted_days` and skips
  both limits above, so nobody guessing elsewhere keeps a member out of their own phone.
  Its own wrong passwords count on its row; after `device_failures` of them it is no
  longer trusted, so a stolen device id buys a few guesses, not unlimited ones.

Only failures count. An attempt is reserved before its password is checked: its counters
are locked (SELECT ... FOR UPDATE), checked and counted in one transaction as if it were
going to fail, so a burst of simultaneous guesses reaches the password check no more
often than the limits allow. A success releases its reservation; an attempt nobody could
answer releases all of it but the pair's (see login_attempt_unanswered). Attempts refused
by a lock are not counted, so hammering a lock does not extend it.
"""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from clients.credentials import identifier_normalise
from clients.models import LoginCounter

Scope = LoginCounter.Scope


def identifier_digest(identifier: str) -> str:
    """A keyed digest of an identifier: stable for counting and logs, unreadable."""
    value = identifier_normalise(identifier).encode()
    return hmac.new(settings.SECRET_KEY.encode(), b"login:" + value, hashlib.sha256).hexdigest()


def _device_row_key(base: str, device_key: str) -> str:
    return hashlib.sha256(f"{base}|device:{device_key}".encode()).hexdigest()


def _keys(identifier: str, ip: str, device_key: str = "") -> dict[str, str]:
    base = identifier_digest(identifier)
    keys = {Scope.IDENTIFIER: base, Scope.PAIR: hashlib.sha256(f"{base}|{ip}".encode()).hexdigest()}
    if device_key:
        keys[Scope.DEVICE] = _device_row_key(base, device_key)
    return keys


@dataclass(frozen=True)
class LockStatus:
    locked: bool
    retry_after: int = 0  # seconds


@dataclass(frozen=True)
class _Hold:
    """What a reservation changed on one counter, so that releasing it undoes just that."""

    key: str
    stamp: datetime  # the last_failure_at it set
    before: datetime | None  # the last_failure_at it replaced
    lock: datetime | None  # the locked_until it set, if any
    trust: datetime | None  # the last_success_at it withdrew (a device at its limit)


@dataclass(frozen=True)
class LoginAttempt:
    """A reserved attempt, or (`allowed` False) one a lock refused for `retry_after` seconds."""

    identifier: str
    ip: str
    device_key: str
    allowed: bool
    retry_after: int = 0
    trusted_device: bool = False
    holds: tuple[_Hold, ...] = ()


def _trusted(row: LoginCounter | None, now: datetime) -> bool:
    """Whether a pair or device row logged in to its identifier within `trusted_days`."""
    days = settings.MEMBER_LOCKOUT["trusted_days"]
    return row is not None and row.last_success_at is not None and row.last_success_at > now - timedelta(days=days)


def _running_lock(rows: dict[str, LoginCounter], trusted_device: bool, now: datetime) -> datetime | None:
    """The latest lock still running among the counters that gate this attempt."""
    if trusted_device:
        return None
    pair = rows.get(Scope.PAIR)
    gates = [pair] if _trusted(pair, now) else [pair, rows.get(Scope.IDENTIFIER)]
    until = [row.locked_until for row in gates if row is not None and row.locked_until and row.locked_until > now]
    return max(until, default=None)


def _seconds(until: datetime, now: datetime) -> int:
    return max(1, int((until - now).total_seconds() + 0.999))


def _lock_for(scope: str, failures: int, now: datetime) -> datetime | None:
    """The lock `failures` failures lead to on a counter of `scope` (None: none)."""
    rules = settings.MEMBER_LOCKOUT
    if scope == Scope.PAIR and failures >= rules["pair_failures"]:
        return now + timedelta(minutes=rules["pair_lock_minutes"])
    if scope == Scope.IDENTIFIER and failures >= rules["identifier_failures"]:
        extra = failures - rules["identifier_failures"]
        return now + timedelta(seconds=min(rules["identifier_max_seconds"],
                                           rules["identifier_base_seconds"] * 2 ** min(extra, 30)))
    return None


def login_lock_status(*, identifier: str, ip: str, device_key: str = "") -> LockStatus:
    """Whether an attempt for `identifier` from `ip` (and device) would be refused now, and how long."""
    keys = _keys(identifier, ip, device_key)
    rows = {row.scope: row for row in LoginCounter.objects.filter(key__in=keys.values())}
    now = timezone.now()
    until = _running_lock(rows, _trusted(rows.get(Scope.DEVICE), now), now)
    return LockStatus(False) if until is None else LockStatus(True, _seconds(until, now))


def _rows_locked(keys: dict[str, str]) -> dict[str, LoginCounter]:
    """The counters of `keys`, locked for update, always in the same order (no deadlocks).

    Identifier and pair rows are created on first use; a device row only by a success.
    """
    rows = {}
    for scope in (Scope.IDENTIFIER, Scope.PAIR, Scope.DEVICE):
        if scope not in keys:
            continue
        if scope != Scope.DEVICE:
            LoginCounter.objects.get_or_create(key=keys[scope], defaults={"scope": scope})
        if (row := LoginCounter.objects.select_for_update().filter(key=keys[scope]).first()) is not None:
            rows[scope] = row
    return rows


def _hold(row: LoginCounter, now: datetime) -> _Hold:
    """Count one failure on `row` (locked for update) in advance, with the lock it leads to."""
    rules = settings.MEMBER_LOCKOUT
    before = row.last_failure_at
    fresh = before is not None and before >= now - timedelta(minutes=rules["window_minutes"])
    row.failures = (row.failures if fresh else 0) + 1
    row.last_failure_at = now
    lock = _lock_for(row.scope, row.failures, now)
    if lock is not None:
        row.locked_until = lock
    withdrawn = None
    if row.scope == Scope.DEVICE and row.failures >= rules["device_failures"]:
        withdrawn, row.last_success_at = row.last_success_at, None
    row.save(update_fields=["failures", "last_failure_at", "locked_until", "last_success_at"])
    return _Hold(row.key, now, before, lock, withdrawn)


def login_attempt_reserve(*, identifier: str, ip: str, device_key: str = "") -> LoginAttempt:
    """Reserve one attempt for `identifier` from `ip` (and `device_key`), or refuse it.

    A trusted device counts on its own row only; any other attempt counts on the pair and
    the identifier. The reservation stands as a failure unless it is settled with
    login_attempt_succeeded or login_attempt_unanswered.
    """
    keys = _keys(identifier, ip, device_key)
    now = timezone.now()
    with transaction.atomic():
        rows = _rows_locked(keys)
        trusted = _trusted(rows.get(Scope.DEVICE), now)
        until = _running_lock(rows, trusted, now)
        if until is not None:
            return LoginAttempt(identifier, ip, device_key, allowed=False, retry_after=_seconds(until, now))
        counted = [rows[Scope.DEVICE]] if trusted else [rows[Scope.PAIR], rows[Scope.IDENTIFIER]]
        holds = tuple(_hold(row, now) for row in counted)
    return LoginAttempt(identifier, ip, device_key, allowed=True, trusted_device=trusted, holds=holds)


def _release(attempt: LoginAttempt, skip: str = "") -> None:
    """Undo what the reservation counted, but on the `skip` key (inside the caller's transaction)."""
    for hold in attempt.holds:
        if hold.key == skip:
            continue
        row = LoginCounter.objects.select_for_update().filter(key=hold.key).first()
        if row is None:  # purged meanwhile
            continue
        row.failures = max(0, row.failures - 1)
        if row.last_failure_at == hold.stamp:
            row.last_failure_at = hold.before
        below = _lock_for(row.scope, row.failures, hold.stamp) is None
        if row.locked_until is not None and (below or row.locked_until == hold.lock):
            row.locked_until = None
        if hold.trust is not None and row.last_success_at is None:
            row.last_success_at = hold.trust
        row.save(update_fields=["failures", "last_failure_at", "locked_until", "last_success_at"])


@transaction.atomic
def login_attempt_succeeded(*, attempt: LoginAttempt) -> None:
    """A correct password: the attempt does not count, and its device becomes trusted.

    Through the normal limits it also forgets the pair's failures and trusts the address
    (the identifier's own count stays: a guesser elsewhere gets no fresh start because the
    member logged in). A trusted device's success renews only the device.
    """
    pair = "" if attempt.trusted_device else _keys(attempt.identifier, attempt.ip)[Scope.PAIR]
    _release(attempt, skip=pair)  # the pair's failures are all forgotten just below
    forgotten = {"failures": 0, "locked_until": None, "last_success_at": timezone.now()}
    if pair and not LoginCounter.objects.filter(key=pair).update(**forgotten):  # purged since the reservation
        LoginCounter.objects.create(key=pair, scope=Scope.PAIR, **forgotten)
    if attempt.device_key:
        login_device_remember(identifier=attempt.identifier, device_key=attempt.device_key)


@transaction.atomic
def login_attempt_unanswered(*, attempt: LoginAttempt) -> None:
    """Nobody could check the password (every member system down): the identifier's own count
    and a trusted device's are released, so no member is locked out by an outage. The pair's
    count stands: Gatehouse's own password still answers meanwhile, and an address must not
    guess it freely for as long as the member systems are down."""
    keep = "" if attempt.trusted_device else _keys(attempt.identifier, attempt.ip)[Scope.PAIR]
    _release(attempt, skip=keep)


def login_device_trusted(*, identifier: str, device_key: str) -> bool:
    """Whether the device `device_key` (an opaque value: the app's device id, a web cookie's
    value) logged in to `identifier` within `trusted_days` and has not lost that trust."""
    if not device_key:
        return False
    key = _device_row_key(identifier_digest(identifier), device_key)
    return _trusted(LoginCounter.objects.filter(key=key).first(), timezone.now())


def login_device_remember(*, identifier: str, device_key: str) -> None:
    """Trust the device `device_key` for `identifier` from now, with its failures forgotten."""
    key = _device_row_key(identifier_digest(identifier), device_key)
    LoginCounter.objects.update_or_create(key=key, defaults={
        "scope": Scope.DEVICE, "failures": 0, "last_failure_at": None, "locked_until": None,
        "last_success_at": timezone.now()})


def login_counters_purge(*, now=None) -> int:
    """Delete counters that no longer count: no failure inside the window, no lock
    running and no trust left. Returns how many."""
    rules, now = settings.MEMBER_LOCKOUT, now or timezone.now()
    deleted, _ = LoginCounter.objects.filter(
        Q(last_failure_at__isnull=True) | Q(last_failure_at__lt=now - timedelta(minutes=rules["window_minutes"])),
        Q(locked_until__isnull=True) | Q(locked_until__lt=now),
        Q(last_success_at__isnull=True) | Q(last_success_at__lt=now - timedelta(days=rules["trusted_days"])),
    ).delete()
    return deleted
