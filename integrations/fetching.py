"""Reading a vendor while the sync engine writes: the next pages are fetched meanwhile.

- `read_ahead(pages, depth)`: a vendor with paged lists (Perfect Gym's OData) is read up
  to `depth` pages ahead in a thread of its own.
- `fetched_pages(pool, fetch, chunks)`: a vendor with no bulk read or write (Gladstone's
  members, Momence's bought memberships, Kisi's users and roles) costs one call per record,
  so a page's calls are made a few at a time in a thread pool, the next page's while the
  engine writes this one.

Results keep their order, an error surfaces when its page is reached, and every call
runs in a copy of the caller's context (integrations.http.vendor_deadline holds).
"""

import contextvars
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any


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


def fetched_pages(pool: Executor, fetch: Callable[[Any], Any], chunks: Iterable[list]) -> Iterator[list]:
    """`fetch(item)` for every item of every chunk, in `pool`: yields each chunk's results
    (in its items' order) while the next chunk is fetched.

    A chunk is taken from `chunks` in the caller's thread just before its calls start, so
    a generator of chunks can do the caller's own work there (e.g. refresh a token). Each
    call runs in a copy of the caller's context (integrations.http.vendor_deadline holds).
    """
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
