"""Reading a vendor that serves one record per call: a page's calls a few at a time.

Some vendors have no bulk read (Gladstone's members, Momence's bought memberships), so a
page costs one call per record. `fetched_pages` makes those calls in a thread pool and
fetches the next page while the sync engine writes the current one; results keep the
order of their items, and an error surfaces when its page is reached.
"""

import contextvars
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor
from typing import Any


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
