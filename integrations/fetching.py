"""Reading a vendor while the sync engine writes: the next pages are fetched meanwhile.

- `read_ahead(pages, depth)`: a vendor with paged lists (Perfect Gym's OData) is read up
  to `depth` pages ahead in a thread of its own.
- `fetched_pages(pool, fetch, chunks)`: a vendor with no bulk read or write (Gladstone's
  members, Momence's bought memberships, Kisi's users and roles) costs one call per record,
  so a page's calls are made a few at a time in a thread pool, the next page's while the
  engine writes this one.

Results keep their order, an error surfaces when its page is reached, and every call
runs in a copy of the caller's context (integrations.http.vendor_deadline holds).

A run of many per-record calls is bound by the HTTP client's CPU, and one process uses one
core (its threads share one interpreter lock). So `fetched_pages(..., forks=forks_for(n, ...))`
makes a large run's calls in more than one process: this one and forked copies of it
(settings VENDOR_CALL_PROCESSES, VENDOR_CALLS_PER_PROCESS). A forked process only calls
the vendor: it inherits `fetch`, gets items and sends back results over a pipe, never
touches the database, and ends with the run (or when this process does).
"""

import contextlib
import contextvars
import logging
import os
import pickle
import signal
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing import Pipe
from multiprocessing.connection import Connection
from typing import Any

from django.conf import settings

from integrations.errors import TransientError
from integrations.pacing import CallPool

logger = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 5.0  # a forked caller still busy when its run ends is stopped after this


def read_ahead(pages: Iterator, depth: int = 1) -> Iterator:
    """Yield `pages`, producing up to `depth` next ones in a worker thread meanwhile. The
    iterator's calls must use an HTTP session of their own (they run in that thread)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="read-ahead") as pool:
        def ask():
            return pool.submit(contextvars.copy_context().run, next, pages, None)

        pending = deque(ask() for _ in range(depth))
        while (page := pending.popleft().result()) is not None:
            pending.append(ask())
            yield page


@dataclass(frozen=True)
class Forks:
    """How one run's calls are spread: over this process and `processes - 1` forked ones,
    `threads` calls at once in each. Items with the same `key(item)` are fetched in the same
    process, so a call that remembers what an earlier one made (Kisi's users by email) sees
    it. `share`, the run's CallPool, paces each process at its share of the rate, and the
    waits the forked processes were told add up in it."""

    processes: int
    threads: int
    key: Callable[[Any], Hashable] | None = None
    share: CallPool | None = None


def forks_for(calls: int, *, in_flight: int, key: Callable[[Any], Hashable] | None = None,
              share: CallPool | None = None) -> Forks | None:
    """The Forks of a run of `calls` calls, at most `in_flight` at once in all; None to make
    them all in this process (a small run, one call at a time, or VENDOR_CALL_PROCESSES 1)."""
    processes = min(settings.VENDOR_CALL_PROCESSES, calls // max(1, settings.VENDOR_CALLS_PER_PROCESS), in_flight)
    if processes < 2:
        return None
    return Forks(processes, threads=in_flight // processes, key=key, share=share)


def fetched_pages(pool: Executor, fetch: Callable[[Any], Any], chunks: Iterable[list], *,
                  forks: Forks | None = None) -> Iterator[list]:
    """`fetch(item)` for every item of every chunk, in `pool`: yields each chunk's results
    (in its items' order) while the next chunk is fetched.

    A chunk is taken from `chunks` in the caller's thread just before its calls start, so
    a generator of chunks can do the caller's own work there (e.g. refresh a token). Each
    call runs in a copy of the caller's context (integrations.http.vendor_deadline holds).
    With `forks`, the calls are made in several processes instead (see the module's note;
    `pool` is then not used).
    """
    if forks is not None:
        yield from _forked_pages(fetch, chunks, forks)
        return

    def submit(chunk: list | None) -> list | None:
        if chunk is None:
            return None
        return [pool.submit(contextvars.copy_context().run, fetch, item) for item in chunk]

    chunks = iter(chunks)
    pending = submit(next(chunks, None))
    try:
        while pending is not None:
            fetched = [future.result() for future in pending]
            pending = submit(next(chunks, None))
            yield fetched
    finally:
        for future in pending or []:
            future.cancel()


def _forked_pages(fetch: Callable[[Any], Any], chunks: Iterable[list], forks: Forks) -> Iterator[list]:
    share = forks.share
    if share is not None:
        share.divide(forks.processes)  # before forking: every process paces at its share
    callers: list[_Caller] = []
    try:
        for _ in range(forks.processes - 1):
            callers.append(_Caller.start(fetch, forks, siblings=callers))
        logger.info("vendor calls in %d processes, %d at once in each", forks.processes, forks.threads)
        with ThreadPoolExecutor(max_workers=forks.threads, thread_name_prefix="fetch") as here:
            def submit(chunk: list | None):
                if chunk is None:
                    return None
                parts = _parts(chunk, forks)
                local = [here.submit(contextvars.copy_context().run, fetch, chunk[i]) for i in parts[0]]
                for caller, indices in zip(callers, parts[1:], strict=True):
                    caller.send([chunk[i] for i in indices])
                return len(chunk), parts, local

            def collect(pending) -> list:
                size, parts, local = pending
                outcomes: list = [None] * size
                for i, future in zip(parts[0], local, strict=True):
                    outcomes[i] = _outcome(future)
                for caller, indices in zip(callers, parts[1:], strict=True):
                    for i, outcome in zip(indices, caller.receive(share), strict=True):
                        outcomes[i] = outcome
                return [_value(outcome) for outcome in outcomes]  # the first error, in order

            chunks = iter(chunks)
            pending = submit(next(chunks, None))
            while pending is not None:
                fetched = collect(pending)
                pending = submit(next(chunks, None))
                yield fetched
    finally:
        for caller in callers:
            caller.stop()
        if share is not None:
            share.divide(1)


def _parts(chunk: list, forks: Forks) -> list[list[int]]:
    """The indices of `chunk` each process fetches: by key when there is one, else in runs."""
    parts: list[list[int]] = [[] for _ in range(forks.processes)]
    if forks.key is not None:
        for i, item in enumerate(chunk):
            parts[hash(forks.key(item)) % forks.processes].append(i)
    else:
        step = -(-len(chunk) // forks.processes)
        for n, part in enumerate(parts):
            part.extend(range(n * step, min(len(chunk), (n + 1) * step)))
    return parts


def _outcome(future: Future) -> tuple[bool, Any]:
    try:
        return True, future.result()
    except Exception as error:  # noqa: BLE001 - carried to its item's place, raised there
        return False, error


def _value(outcome: tuple[bool, Any]) -> Any:
    ok, value = outcome
    if not ok:
        raise value
    return value


def _portable(outcome: tuple[bool, Any]) -> tuple[bool, Any]:
    """An outcome that survives the pipe: an error that does not pickle is sent as its text."""
    ok, value = outcome
    if ok:
        return outcome
    try:
        pickle.loads(pickle.dumps(value))  # noqa: S301 - our own bytes, just made
    except Exception:  # noqa: BLE001
        return False, TransientError(f"{type(value).__name__}: {value}")
    return outcome


class _Caller:
    """One forked process making calls: items in, outcomes back, one chunk at a time."""

    def __init__(self, pid: int, pipe: Connection):
        self.pid, self.pipe = pid, pipe

    @classmethod
    def start(cls, fetch: Callable[[Any], Any], forks: Forks, *, siblings: list["_Caller"]) -> "_Caller":
        ours, theirs = Pipe()
        pid = os.fork()
        if pid == 0:  # the forked process: serve, then leave without running any of the parent's clean-up
            status = 0
            try:
                ours.close()
                for sibling in siblings:  # else a sibling never sees this process's end of the run
                    sibling.pipe.close()
                _serve(fetch, theirs, forks)
            except BaseException:  # noqa: BLE001 - the parent sees the pipe close
                status = 1
            finally:
                os._exit(status)
        theirs.close()
        return cls(pid, ours)

    def send(self, items: list) -> None:
        self.pipe.send(items)

    def receive(self, share: CallPool | None) -> list:
        try:
            outcomes, waits = self.pipe.recv()
        except (EOFError, OSError):
            raise TransientError("a process making vendor calls for this run ended unexpectedly") from None
        if share is not None and waits:
            share.waits_add(waits)
        return outcomes

    def stop(self) -> None:
        """Close the pipe: an idle caller leaves at once, a busy one (the run ended early) is
        stopped if it has not left within STOP_GRACE_SECONDS."""
        with contextlib.suppress(OSError):
            self.pipe.close()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while time.monotonic() < deadline:
            try:
                if os.waitpid(self.pid, os.WNOHANG)[0]:
                    return
            except ChildProcessError:
                return
            time.sleep(0.005)
        with contextlib.suppress(ProcessLookupError, ChildProcessError):
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        logger.warning("a vendor-call process did not end with its run and was stopped")


def _serve(fetch: Callable[[Any], Any], pipe: Connection, forks: Forks) -> None:
    """The forked process's loop. Its calls run in copies of the context it was forked in."""
    share = forks.share
    if share is not None:
        share.forked()
    context = contextvars.copy_context()
    told = share.waits if share is not None else 0
    with ThreadPoolExecutor(max_workers=forks.threads, thread_name_prefix="fetch") as pool:
        while True:
            try:
                items = pipe.recv()
            except EOFError:
                return
            futures = [pool.submit(context.copy().run, fetch, item) for item in items]
            outcomes = [_portable(_outcome(future)) for future in futures]
            waits = share.waits if share is not None else 0
            pipe.send((outcomes, waits - told))
            told = waits
