"""One HTTP layer for every vendor: timeouts, retries, pacing, one DEBUG log line per call.

Vendor clients build a `VendorHTTP` and call `request()`; statuses are mapped to
integrations.errors here, and a client adds its own payload-level errors through
`error_hook` (a 499 envelope, `success: false` on a 200).
"""

import contextlib
import email.utils
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from urllib.parse import urljoin, urlsplit

import requests

from integrations.errors import (
    AuthError,
    PermanentError,
    RateLimited,
    TransientError,
    VendorError,
    status_summary,
)

logger = logging.getLogger("gatehouse.vendor")

RETRY_STATUSES = frozenset({429, 502, 503, 504})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
BODY_LOG_CHARS = 200  # of an error answer's body, at DEBUG only

# A monotonic time by which every vendor call in this context must be done (see vendor_deadline).
_deadline: ContextVar[float | None] = ContextVar("vendor_deadline", default=None)


@contextlib.contextmanager
def vendor_deadline(seconds: float):
    """Bound every VendorHTTP call made inside the block to `seconds` in total.

    Timeouts shrink to the time left and no retry or back-off outlasts it; past it a call
    raises TransientError. Used where someone is waiting (a member logging in), so a slow
    vendor holds a worker for `seconds` at most. Nested blocks keep the earlier deadline.
    """
    ends = time.monotonic() + seconds
    current = _deadline.get()
    token = _deadline.set(ends if current is None else min(current, ends))
    try:
        yield
    finally:
        _deadline.reset(token)


def _time_left() -> float | None:
    ends = _deadline.get()
    return None if ends is None else ends - time.monotonic()


def _within(timeout, left: float | None):
    """`timeout` (a number, a (connect, read) pair or None) cut down to `left` seconds."""
    if left is None:
        return timeout
    if isinstance(timeout, tuple):
        return tuple(min(part, left) if part is not None else left for part in timeout)
    return left if timeout is None else min(timeout, left)


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


def retry_after_seconds(value: str | None) -> float | None:
    """Parse a Retry-After header: seconds, or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


class VendorHTTP:
    """A `requests` session for one integration of one vendor."""

    def __init__(
        self,
        *,
        vendor: str,
        base_url: str,
        headers: dict[str, str] | None = None,
        secrets: Iterable[str] = (),
        timeout: tuple[float, float] = (5.0, 30.0),
        max_attempts: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_retry_after: float = 120.0,
        rate_per_second: float | None = None,
        burst: int = 1,
        error_hook: Callable[[requests.Response], VendorError | None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.vendor = vendor
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers.update(headers or {})
        self._environment_once()
        self.secrets = [s for s in secrets if s]
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff, self.max_backoff, self.max_retry_after = backoff, max_backoff, max_retry_after
        self.pacer = Pacer(rate_per_second, burst, sleep=sleep) if rate_per_second else None
        self.error_hook = error_hook
        self.sleep = sleep

    def _environment_once(self) -> None:
        """Read the proxy and CA-bundle environment once, for the vendor's host.

        Otherwise requests re-reads os.environ (and .netrc) on every call: about a third of
        the CPU of a small call, which is most of a sync's CPU when it makes one per member.
        """
        self.session.proxies.update(requests.utils.get_environ_proxies(self.base_url))
        if bundle := os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE"):
            self.session.verify = bundle
        self.session.trust_env = False

    def redact(self, text: str) -> str:
        """Replace every secret this session knows with ***."""
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def _delay(self, attempt: int) -> float:
        # Exponential backoff with full jitter.
        return random.uniform(0, min(self.max_backoff, self.backoff * 2 ** (attempt - 1)))

    def request(self, method: str, path: str, *, idempotent: bool | None = None, **kwargs) -> requests.Response:
        """Send one call, retrying where it is safe; return a 2xx response or raise VendorError.

        `idempotent` marks a POST that is safe to repeat (a SOAP read); by default only
        GET, HEAD, OPTIONS, PUT and DELETE are retried.
        """
        method = method.upper()
        url = path if path.startswith(("http://", "https://")) else urljoin(self.base_url, path)
        repeatable = method in SAFE_METHODS if idempotent is None else idempotent
        kwargs.setdefault("timeout", self.timeout)
        shown = requests.PreparedRequest()
        shown.prepare_url(url, kwargs.get("params"))  # the URL as sent, for the log line
        attempt = 0
        while True:
            attempt += 1
            if self.pacer:
                self.pacer.wait()
            left = _time_left()
            if left is not None and left <= 0:
                raise TransientError(f"{self.vendor}: {method} {self._path(url)} not sent: out of time")
            sent = {**kwargs, "timeout": _within(kwargs["timeout"], left)}
            started = time.monotonic()
            try:
                response = self.session.request(method, url, **sent)
            except (requests.ConnectionError, requests.Timeout) as error:
                self._log(method, shown.url, None, started, attempt, type(error).__name__)
                if repeatable and attempt < self.max_attempts and self._fits(delay := self._delay(attempt)):
                    self.sleep(delay)
                    continue
                raise TransientError(
                    f"{self.vendor}: {method} {self._path(url)} failed: {type(error).__name__}"
                ) from None
            self._log(method, shown.url, response.status_code, started, attempt)
            if response.status_code in RETRY_STATUSES and repeatable and attempt < self.max_attempts:
                wait = retry_after_seconds(response.headers.get("Retry-After"))
                if wait is not None and (wait > self.max_retry_after or not self._fits(wait)):
                    raise RateLimited(f"{self.vendor}: asked to wait {wait:.0f} s", retry_after=wait)
                delay = wait if wait is not None else self._delay(attempt)
                if self._fits(delay):
                    self.sleep(delay)
                    continue
            error = self.error_for(response, method, url)
            if error is not None:
                raise error
            return response

    @staticmethod
    def _fits(delay: float) -> bool:
        """Whether sleeping `delay` leaves time for another attempt before the deadline."""
        left = _time_left()
        return left is None or delay < left

    def error_for(self, response: requests.Response, method: str, url: str) -> VendorError | None:
        """Map a response to the error hierarchy (None when it is a success)."""
        status = response.status_code
        if status >= 400 and logger.isEnabledFor(logging.DEBUG):
            # The body only here: redacted, bounded, at DEBUG; messages get status_summary.
            logger.debug("vendor=%s status=%s body=%r", self.vendor, status,
                         self.redact(response.text[:BODY_LOG_CHARS]))
        if self.error_hook is not None and (hooked := self.error_hook(response)) is not None:
            return hooked
        if status < 400:
            return None
        where = f"{self.vendor}: {method} {self._path(url)} answered {status}: {status_summary(status)}"
        if status in (401, 403):
            return AuthError(where)
        if status == 429:
            return RateLimited(where, retry_after=retry_after_seconds(response.headers.get("Retry-After")))
        if status >= 500:
            return TransientError(where)
        return PermanentError(where)

    def _path(self, url: str) -> str:
        return self.redact(urlsplit(url).path)

    def _log(self, method, url, status, started, attempt, failure=""):
        # DEBUG: a sync makes thousands of calls; its run's summary is the INFO line (integrations.sync).
        if not logger.isEnabledFor(logging.DEBUG):
            return
        parts = urlsplit(url)
        target = self.redact(parts.path + (f"?{parts.query}" if parts.query else ""))
        duration = round((time.monotonic() - started) * 1000)
        logger.debug(
            "vendor=%s method=%s path=%s status=%s duration_ms=%d attempt=%d%s",
            self.vendor, method, target, status if status is not None else "-", duration, attempt,
            f" error={failure}" if failure else "",
            extra={"vendor": self.vendor, "method": method, "path": target, "status": status,
                   "duration_ms": duration, "attempt": attempt, **({"error": failure} if failure else {})},
        )
