"""Pacing vendor calls: how often a session may call, and what the sessions of one run share.

- `Pacer`: a token bucket, one per session (a vendor's documented rate, e.g. Glofox's 10 a second).
- `CallPool`: one run calling from several threads, each with its own session
  (integrations.http.VendorHTTP(pool=...)): one pace for all, one wait when the vendor
  answers 429, one list of secrets to redact.
"""

import threading
import time
from collections.abc import Callable, Iterable


class Pacer:
    """A token bucket: at most `rate` calls a second on average, `burst` at once."""

    def __init__(self, rate: float, burst: int = 1, clock=time.monotonic, sleep=time.sleep):
        self.rate, self.burst = rate, burst
        self.tokens = float(burst)
        self.clock, self.sleep = clock, sleep
        self.stamp = clock()
        self.lock = threading.Lock()

    def wait(self) -> None:
        with self.lock:
            now = self.clock()
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens < 1:
                self.sleep((1 - self.tokens) / self.rate)
                self.stamp = self.clock()
                self.tokens = 0.0
            else:
                self.tokens -= 1


class CallPool:
    """What the sessions of one run share when it calls a vendor from several threads (a
    requests session is not shared between threads, so each thread has its own): one pace
    for all of them together, the waits the vendor asks for, and the secrets to redact.

    When one session is told to wait (429 and Retry-After, or a backoff after an error),
    every session waits until then before its next call: the run slows down, not one
    thread. `in_flight` is how many threads the run calls from."""

    def __init__(self, *, rate: float | None, in_flight: int = 1, burst: int | None = None,
                 secrets: Iterable[str] = (), clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.in_flight, self.rate = in_flight, rate
        self.pacer = Pacer(rate, burst=burst or in_flight, clock=clock, sleep=sleep) if rate else None  # None: unpaced
        self.secrets = [s for s in secrets if s]  # one list: a secret added later is redacted by all
        self.clock, self.sleep = clock, sleep
        self.resume_at = 0.0
        self.waits = 0  # how often a session was told to wait
        self.lock = threading.Lock()
        self.slept = threading.local()  # until when this thread has already waited

    def wait(self) -> None:
        """Before each call: wait out a pause another session was asked for, then the pace."""
        left = self.resume_at - self.clock()
        if left > 0 and getattr(self.slept, "until", 0.0) < self.resume_at:
            self.slept.until = self.resume_at
            self.sleep(left)
        if self.pacer:
            self.pacer.wait()

    def pause(self, seconds: float) -> None:
        """Wait `seconds`, as the vendor asked this session, and hold every other one until then."""
        with self.lock:
            until = self.clock() + seconds
            self.resume_at = max(self.resume_at, until)
            self.waits += 1
        self.slept.until = until
        self.sleep(seconds)

    def divide(self, processes: int) -> None:
        """Pace at 1/`processes` of the rate: this pool is one of `processes` copies calling at
        once (integrations.fetching.Forks); 1 gives the whole rate back."""
        if self.pacer is not None:
            self.pacer.rate = self.rate / processes

    def forked(self) -> None:
        """In a forked copy: fresh locks, since a thread of the parent may have held one."""
        self.lock, self.slept = threading.Lock(), threading.local()
        if self.pacer is not None:
            self.pacer.lock = threading.Lock()

    def waits_add(self, waits: int) -> None:
        """Count waits a forked copy of this pool was told (for the run's report)."""
        with self.lock:
            self.waits += waits

    def secret_add(self, secret: str) -> None:
        if secret and secret not in self.secrets:
            self.secrets.append(secret)
