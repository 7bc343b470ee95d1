"""The sandbox base: routes, state, a record of calls, and faults injected on demand.

A vendor sandbox subclasses `Sandbox`, keeps the vendor's state in plain Python, and
declares handlers with `@route(METHOD, r"regex")` that speak the vendor's wire format.
Faults queued with `inject()` answer instead of a handler: a status (429 with
Retry-After, 5xx), a delay (a slow answer, a timeout under `responses`), or a
`malformed` flag the vendor's handlers read to corrupt the next record they serve.
"""

import copy
import json
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

CONTROL_PREFIX = "_sandbox/"  # a fake's own routes (calls counted, state), never the vendor's
ID_SEGMENT = re.compile(r"/\d+")


@dataclass
class SandboxRequest:
    method: str
    path: str  # without the sandbox's base path, no leading slash
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes = b""
    match: re.Match | None = None

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def header(self, name: str, default: str = "") -> str:
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), default)


@dataclass
class SandboxResponse:
    status: int = 200
    body: bytes | str | Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body, default=str).encode()


@dataclass
class Fault:
    """One injected misbehaviour, used `times` times on calls whose path matches."""

    status: int | None = None
    retry_after: float | None = None
    delay: float = 0.0
    malformed: bool = False
    times: int = 1
    path: str = ""  # regex; empty matches every path
    probability: float = 1.0
    skip: int = 0  # let this many matching calls through first


def route(method: str, pattern: str) -> Callable:
    """Declare a handler for METHOD and a path regex (matched against the whole path)."""

    def mark(func):
        func._sandbox_route = (method.upper(), re.compile(pattern))
        return func

    return mark


class Sandbox:
    """Base class of every vendor fake."""

    kind = ""
    keep_alive = False  # served over HTTP/1.1 persistent connections (see transports.serve)

    def __init__(self, *, members: int = 100, seed: int = 1):
        self.rng = random.Random(seed)
        self.lock = threading.RLock()
        self.calls: list[SandboxRequest] = []
        self.faults: list[Fault] = []
        self.malformed_pending = 0
        self.routes = [
            (*getattr(self, name)._sandbox_route, getattr(self, name))
            for name in dir(type(self))
            if hasattr(getattr(type(self), name), "_sandbox_route")
        ]
        self.setup(members=members)

    def setup(self, *, members: int) -> None:
        """Seed the vendor's state."""

    def twin(self) -> "Sandbox":
        """A second sandbox holding the same records as this one, with its own lock: two runs
        compared against one vendor's data, even where the data was seeded from the clock."""
        with self.lock:
            lock, self.lock = self.lock, None
            try:
                twin = copy.deepcopy(self)
            finally:
                self.lock = lock
        twin.lock = threading.RLock()
        return twin

    # faults ------------------------------------------------------------------
    def inject(self, **fault) -> Fault:
        """Queue a fault, e.g. inject(status=429, retry_after=1) or inject(malformed=True)."""
        item = Fault(**fault)
        with self.lock:
            self.faults.append(item)
        return item

    def faults_clear(self) -> None:
        with self.lock:
            self.faults.clear()
            self.malformed_pending = 0

    def take_malformed(self) -> bool:
        """True once per pending `malformed` fault: the handler should corrupt a record."""
        with self.lock:
            if self.malformed_pending:
                self.malformed_pending -= 1
                return True
            return False

    def _fault_for(self, request: SandboxRequest) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and (not fault.path or re.search(fault.path, request.path)):
                    if fault.skip > 0:
                        fault.skip -= 1
                        continue
                    if fault.probability < 1.0 and self.rng.random() >= fault.probability:
                        continue
                    fault.times -= 1
                    if fault.malformed:
                        self.malformed_pending += 1
                    return fault
            self.faults = [f for f in self.faults if f.times > 0]
        return None

    # dispatch ----------------------------------------------------------------
    def authenticate(self, request: SandboxRequest) -> SandboxResponse | None:
        """Return an error response when the request's credentials are wrong."""
        return None

    def error(self, status: int, message: str) -> SandboxResponse:
        """The vendor's error body for `status` (vendors override the shape)."""
        return SandboxResponse(status, {"error": message})

    def handle(self, request: SandboxRequest, *, timeout: float | None = None) -> SandboxResponse:
        """Answer one request as the vendor would (faults first, then auth, then routes).
        Paths under `_sandbox/` are this fake's own (`_control`), never counted as calls."""
        if request.path.startswith(CONTROL_PREFIX):
            with self.lock:
                return self._control(request)
        with self.lock:
            self.calls.append(request)
        fault = self._fault_for(request)
        if fault and fault.delay:
            if timeout is not None and fault.delay >= timeout:
                raise TimeoutError(f"sandbox held the answer {fault.delay}s")
            time.sleep(fault.delay)
        if fault and fault.status:
            headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
            response = self.error(fault.status, "injected fault")
            response.headers.update(headers)
            return response
        if denied := self.authenticate(request):
            return denied
        for method, pattern, handler in self.routes:
            if method == request.method and (match := pattern.fullmatch(request.path)):
                request.match = match
                with self.lock:
                    return handler(request)
        return self.error(404, f"No route for {request.method} /{request.path}")

    # what it was asked (and sandbox-only routes, for a benchmark serving it from another process)
    def call_counts(self) -> Counter:
        """Calls by "METHOD path", numeric ids shown as <id>: {"GET role_assignments": 3, ...}."""
        with self.lock:
            return Counter(f"{c.method} {ID_SEGMENT.sub('/<id>', c.path)}" for c in self.calls)

    def calls_clear(self) -> None:
        with self.lock:
            self.calls.clear()

    def _control(self, request: SandboxRequest) -> SandboxResponse:
        """`GET _sandbox/calls` (the call counts) and `POST _sandbox/calls/clear`; a vendor's
        fake adds its own routes and hands the rest to this."""
        if request.method == "GET" and request.path == f"{CONTROL_PREFIX}calls":
            return SandboxResponse(200, {"calls": dict(self.call_counts())})
        if request.method == "POST" and request.path == f"{CONTROL_PREFIX}calls/clear":
            self.calls_clear()
            return SandboxResponse(204, b"")
        return self.error(404, f"No sandbox route {request.method} /{request.path}")

    @staticmethod
    def parse_query(query_string: str) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(query_string, keep_blank_values=True).items()}
