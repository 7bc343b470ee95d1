"""fetched_pages: one call per record, a few at a time, the next page fetched meanwhile."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from integrations.errors import TransientError
from integrations.fetching import fetched_pages
from integrations.http import _time_left, vendor_deadline


def test_pages_keep_their_items_order_and_the_next_is_fetched_meanwhile():
    second_started = threading.Event()

    def fetch(n):
        if n == 3:
            second_started.set()
        return n * 10

    with ThreadPoolExecutor(4) as pool:
        pages = fetched_pages(pool, fetch, iter([[2, 1, 0], [3, 5, 4]]))
        assert next(pages) == [20, 10, 0]
        assert second_started.wait(5)  # while the caller still holds the first page
        assert list(pages) == [[30, 50, 40]]


def test_an_error_surfaces_at_its_page_after_the_pages_before():
    def fetch(n):
        if n == 4:
            raise TransientError("vendor: 503")
        return n

    with ThreadPoolExecutor(2) as pool:
        pages = fetched_pages(pool, fetch, [[1, 2], [3, 4], [5]])
        assert next(pages) == [1, 2]
        with pytest.raises(TransientError):
            next(pages)


def test_calls_run_in_the_callers_context_and_chunks_are_taken_in_its_thread():
    taken_in, lefts = [], []

    def chunks():
        for chunk in ([1], [2]):
            taken_in.append(threading.current_thread())
            yield chunk

    with ThreadPoolExecutor(2) as pool, vendor_deadline(60):
        assert list(fetched_pages(pool, lambda n: lefts.append(_time_left()) or n, chunks())) == [[1], [2]]
    assert taken_in == [threading.current_thread()] * 2
    assert all(left is not None and 0 < left <= 60 for left in lefts)  # vendor_deadline holds there too
