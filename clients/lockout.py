"""Failed member logins counted atomically, and the lockout they lead to.

Two counters per attempt, both keyed by digests (settings.MEMBER_LOCKOUT):
- identifier + IP: after a few failures that pair is locked for a while. It locks the
  guesser's address out, not the member, who logs in from elsewhere as usual.
- identifier alone (guessing from many addresses): past a threshold each failure delays
  the next attempt, 2 s, 4 s, 8 s ..., never more than a few minutes, and an address
  the identifier logged in from recently is not delayed at all. An attacker can slow a
  member's login from a new address by minutes at most, never lock them out for long.
Attempts refused by a lock are not counted, so hammering a lock does not extend it.
Counts are kept in the database with row locks, so they are exact across processes.
"""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

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


def _keys(identifier: str, ip: str) -> dict[str, str]:
    base = identifier_digest(identifier)
    pair = hashlib.sha256(f"{base}|{ip}".encode()).hexdigest()
    return {Scope.IDENTIFIER: base, Scope.PAIR: pair}


@dataclass(frozen=True)
class LockStatus:
    locked: bool
    retry_after: int = 0  # seconds


def login_lock_status(*, identifier: str, ip: str) -> LockStatus:
    """Whether an attempt for `identifier` from `ip` must be refused now, and for how long."""
    keys = _keys(identifier, ip)
    rows = {row.scope: row for row in LoginCounter.objects.filter(key__in=keys.values())}
    now = timezone.now()
    pair, ident = rows.get(Scope.PAIR), rows.get(Scope.IDENTIFIER)
    trusted = pair is not None and pair.last_success_at is not None and (
        pair.last_success_at > now - timedelta(days=settings.MEMBER_LOCKOUT["trusted_days"]))
    until = [row.locked_until for row in (pair, None if trusted else ident)
             if row is not None and row.locked_until and row.locked_until > now]
    if not until:
        return LockStatus(False)
    return LockStatus(True, max(1, int((max(until) - now).total_seconds() + 0.999)))


def _counter(key: str, scope: str) -> LoginCounter:
    """The counter row for `key`, locked for update (created on first use)."""
    LoginCounter.objects.get_or_create(key=key, defaults={"scope": scope})
    return LoginCounter.objects.select_for_update().get(key=key)


@transaction.atomic
def login_failure_record(*, identifier: str, ip: str) -> LockStatus:
    """Count one failed attempt for `identifier` from `ip`; returns the lock it leads to."""
    rules = settings.MEMBER_LOCKOUT
    now = timezone.now()
    forget_before = now - timedelta(minutes=rules["window_minutes"])
    for scope, key in _keys(identifier, ip).items():
        row = _counter(key, scope)
        if row.last_failure_at is None or row.last_failure_at < forget_before:
            row.failures = 0
        row.failures += 1
        row.last_failure_at = now
        if scope == Scope.PAIR and row.failures >= rules["pair_failures"]:
            row.locked_until = now + timedelta(minutes=rules["pair_lock_minutes"])
        elif scope == Scope.IDENTIFIER and row.failures >= rules["identifier_failures"]:
            extra = row.failures - rules["identifier_failures"]
            delay = min(rules["identifier_max_seconds"],
                        rules["identifier_base_seconds"] * 2 ** min(extra, 30))
            row.locked_until = now + timedelta(seconds=delay)
        row.save(update_fields=["failures", "last_failure_at", "locked_until"])
    return login_lock_status(identifier=identifier, ip=ip)


@transaction.atomic
def login_success_record(*, identifier: str, ip: str) -> None:
    """Forget the failures of `identifier` from `ip` and trust `ip` for it.

    The identifier's own count stays: a guesser elsewhere does not get a fresh start
    because the member logged in.
    """
    key = _keys(identifier, ip)[Scope.PAIR]
    _counter(key, Scope.PAIR)
    LoginCounter.objects.filter(key=key).update(failures=0, locked_until=None, last_success_at=timezone.now())



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
