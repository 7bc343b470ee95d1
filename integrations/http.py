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
import time
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from datetime import timedelta
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.cookies import RequestsCookieJar, extract_cookies_to_jar, merge_cookies
from requests.hooks import dispatch_hook
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from integrations.errors import (
    AuthError,
    PermanentError,
    RateLimited,
    TransientError,
    VendorError,
    status_summary,
)
from integrations.pacing import CallPool, Pacer

logger = logging.getLogger("gatehouse.vendor")

RETRY_STATUSES = frozenset({429, 502, 503, 504})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
BODY_LOG_CHARS = 200  # of an error answer's body, at DEBUG only
MAX_HEADER_SETS = 32  # header sets remembered per session (a session sends one or two)
MAX_POOLS = 10  # origins remembered per adapter (urllib3's pool manager also keeps 10)
SEND_OPTIONS = frozenset({"params", "data", "json", "headers", "timeout"})  # what request() takes

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


def retry_after_seconds(value: str | None) -> float | None:
    """Parse a Retry-After header: seconds, or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


_joined = lru_cache(maxsize=1024)(urljoin)  # a base URL and a path: the same few, over and over


@lru_cache(maxsize=1024)
def _prepared_url(url: str) -> str:
    """`url` as requests prepares it (IDNA-encoded, re-quoted) when there are no parameters."""
    prepared = requests.PreparedRequest()
    prepared.prepare_url(url, None)
    return prepared.url


def _sets_cookies(response: requests.Response) -> bool:
    return "Set-Cookie" in response.headers or "Set-Cookie2" in response.headers


class _Adapter(HTTPAdapter):
    """requests' adapter, remembering the connection pool of each origin (scheme, host
    and port) with its TLS settings and proxies, instead of working it out on every call."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._pools: dict[tuple, object] = {}

    def get_connection_with_tls_context(self, request, verify, proxies=None, cert=None):
        origin = "/".join(request.url.split("/", 3)[:3])
        key = (origin, verify, cert if not isinstance(cert, list) else tuple(cert),
               tuple(sorted(proxies.items())) if proxies else ())
        pool = self._pools.get(key)
        if pool is None or pool.pool is None:  # not seen yet, or closed since
            if len(self._pools) >= MAX_POOLS:
                self._pools.clear()
            pool = self._pools[key] = super().get_connection_with_tls_context(request, verify, proxies, cert)
        return pool

    def build_response(self, req, resp) -> requests.Response:
        """As requests builds it, but reading the answer's cookies only when it sets some:
        most vendor answers set none, and the cookie jar's parsing is a tenth of a small call."""
        response = requests.Response()
        response.status_code = resp.status
        response.headers = CaseInsensitiveDict(resp.headers)
        response.encoding = get_encoding_from_headers(response.headers)
        response.raw, response.reason = resp, resp.reason
        response.url = req.url.decode("utf-8") if isinstance(req.url, bytes) else req.url
        if _sets_cookies(response):
            extract_cookies_to_jar(response.cookies, req, resp)
        response.request, response.connection = req, self
        return response

    def close(self) -> None:
        # Forget the pools with the pool manager: after a close, calls open new connections.
        self._pools.clear()
        super().close()

    def request_url(self, request, proxies):
        if proxies:
            return super().request_url(request, proxies)
        url = request.path_url  # as requests sends it without a proxy
        return f"/{url.lstrip('/')}" if url.startswith("//") else url


class VendorHTTP:
    """A `requests` session for one integration of one vendor.

    Calls skip `Session.request`, which re-does per call what is the same for every call
    of one session (merging settings, re-parsing the URL): `_prepare` builds the request
    as it would, and `_send` sends it through the session's adapter as `Session.send`
    does. With `_Adapter`, a small call costs a third less CPU (Gladstone's: 0.39 ms, not
    0.63), and a sync makes one or two per member. The merged, checked headers of a
    session are remembered (`_headers`), an answer's body is read in one read, and its
    cookies only when it sets some: about an eighth less again. Calls take only `SEND_OPTIONS`.
    """

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
        pool: CallPool | None = None,
    ):
        """With `pool`, this session paces, waits and redacts with the other sessions of its
        run (rate_per_second, burst and sleep are then the pool's)."""
        self.vendor = vendor
        self.base_url = base_url
        self.session = requests.Session()
        for scheme in ("https://", "http://"):
            self.session.mount(scheme, _Adapter())
        self.session.headers.update(headers or {})
        self._merged_headers: dict[tuple, CaseInsensitiveDict] = {}
        self._environment_once()
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff, self.max_backoff, self.max_retry_after = backoff, max_backoff, max_retry_after
        self.error_hook = error_hook
        if pool is not None:
            for secret in secrets:
                pool.secret_add(secret)
            self.secrets, self.pacer, self.sleep = pool.secrets, pool, pool.pause
        else:
            self.secrets = [s for s in secrets if s]
            self.pacer = Pacer(rate_per_second, burst, sleep=sleep) if rate_per_second else None
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
        url = path if path.startswith(("http://", "https://")) else _joined(self.base_url, path)
        repeatable = method in SAFE_METHODS if idempotent is None else idempotent
        kwargs.setdefault("timeout", self.timeout)
        unknown = set(kwargs) - SEND_OPTIONS
        if unknown:
            raise TypeError(f"VendorHTTP.request() got unexpected options: {', '.join(sorted(unknown))}")
        attempt = 0
        while True:
            attempt += 1
            if self.pacer:
                self.pacer.wait()
            left = _time_left()
            if left is not None and left <= 0:
                raise TransientError(f"{self.vendor}: {method} {self._path(url)} not sent: out of time")
            prepared = self._prepare(method, url, kwargs)
            started = time.monotonic()
            try:
                response = self._send(prepared, _within(kwargs["timeout"], left))
            except (requests.ConnectionError, requests.Timeout) as error:
                self._log(method, prepared.url, None, started, attempt, type(error).__name__)
                if repeatable and attempt < self.max_attempts and self._fits(delay := self._delay(attempt)):
                    self.sleep(delay)
                    continue
                raise TransientError(
                    f"{self.vendor}: {method} {self._path(url)} failed: {type(error).__name__}"
                ) from None
            self._log(method, prepared.url, response.status_code, started, attempt)
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

    def _prepare(self, method: str, url: str, options: dict) -> requests.PreparedRequest:
        """The request `Session.request` would prepare: the session's headers under the call's
        (None drops one), the session's cookies, the body from `data` or `json`."""
        session, prepared = self.session, requests.PreparedRequest()
        prepared.method = method
        if params := options.get("params"):
            prepared.prepare_url(url, params)
        else:
            prepared.url = _prepared_url(url)
        prepared.headers = self._headers(options.get("headers")).copy()
        if session.cookies:
            prepared.prepare_cookies(merge_cookies(RequestsCookieJar(), session.cookies))
        prepared.prepare_body(options.get("data") or {}, None, options.get("json"))
        if "@" in prepared.url or session.auth:  # credentials in the URL, or the session's
            prepared.prepare_auth(session.auth)
        if session.hooks.get("response"):
            prepared.prepare_hooks(session.hooks)
        return prepared

    def _headers(self, extra: dict | None) -> CaseInsensitiveDict:
        """The session's headers under the call's (None drops one), checked as requests checks
        them; remembered, as a session sends the same few sets (see _prepare's copy)."""
        key = (tuple(self.session.headers.items()), tuple(extra.items()) if extra else ())
        headers = self._merged_headers.get(key)
        if headers is None:
            merged = CaseInsensitiveDict(self.session.headers)
            for name, value in (extra or {}).items():
                if value is None:
                    merged.pop(name, None)
                else:
                    merged[name] = value
            checked = requests.PreparedRequest()
            checked.prepare_headers(merged)
            if len(self._merged_headers) >= MAX_HEADER_SETS:
                self._merged_headers.clear()
            headers = self._merged_headers[key] = checked.headers
        return headers

    def _send(self, prepared: requests.PreparedRequest, timeout) -> requests.Response:
        """Send as `Session.send` does: hooks, cookies kept, redirects followed, body read."""
        session = self.session
        settings = {"stream": False, "timeout": timeout, "verify": session.verify, "cert": session.cert,
                    "proxies": session.proxies}
        started = time.perf_counter()
        response = session.get_adapter(prepared.url).send(prepared, **settings)
        response.elapsed = timedelta(seconds=time.perf_counter() - started)
        response = dispatch_hook("response", prepared.hooks, response, **settings)
        if _sets_cookies(response):
            extract_cookies_to_jar(session.cookies, prepared, response.raw)
        if response.is_redirect:
            if prepared._cookies is None:  # what resolve_redirects carries from hop to hop
                prepared._cookies = merge_cookies(RequestsCookieJar(), session.cookies)
            history = [response, *session.resolve_redirects(response, prepared, **settings)]
            response = history.pop()
            response.history = history
        if response._content is False:  # read the whole body now, as stream=False does, in one read
            response._content = b"".join(response.iter_content(None)) or b""
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
