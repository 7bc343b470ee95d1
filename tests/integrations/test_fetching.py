"""fetched_pages: one call per record, a few at a time, the next page fetched meanwhile, and a
large run's calls in more than one process."""

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from integrations.errors import PermanentError, TransientError
from integrations.fetching import Forks, fetched_pages, forks_for
from integrations.http import _time_left, vendor_deadline
from integrations.pacing import CallPool


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


# -- in more than one process ------------------------------------------------------------

def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_forked_calls_keep_their_order_run_in_two_processes_and_leave_none_behind():
    pages = list(fetched_pages(None, lambda n: (n * 10, os.getpid()), [[1, 2, 3, 4], [5, 6, 7]],
                               forks=Forks(processes=2, threads=2)))
    assert [[value for value, _ in page] for page in pages] == [[10, 20, 30, 40], [50, 60, 70]]
    pids = {pid for page in pages for _, pid in page}
    assert os.getpid() in pids and len(pids) == 2
    assert not _alive(next(pid for pid in pids if pid != os.getpid()))  # ended and reaped with the run


def test_items_with_one_key_are_fetched_in_one_process_on_every_page():
    keyed = Forks(processes=2, threads=2, key=lambda item: item[0])
    pages = fetched_pages(None, lambda item: (item[0], os.getpid()),
                          [[("a", 1), ("b", 1), ("c", 1)], [("c", 2), ("b", 2), ("a", 2)]], forks=keyed)
    where: dict[str, set[int]] = {}
    for page in pages:
        for key, pid in page:
            where.setdefault(key, set()).add(pid)
    assert all(len(pids) == 1 for pids in where.values())


class Unpicklable(Exception):
    def __reduce__(self):
        raise TypeError("not this one")


def test_an_error_in_a_forked_process_surfaces_at_its_item_even_one_that_does_not_pickle():
    def fetch(n):
        if n == 4:
            raise PermanentError("vendor: 404")
        if n == 8:
            raise Unpicklable("odd")
        return n

    forks = Forks(processes=2, threads=1)
    pages = fetched_pages(None, fetch, [[1, 2], [3, 4], [5, 6]], forks=forks)
    assert next(pages) == [1, 2]
    with pytest.raises(PermanentError, match="404"):  # 4 is the second half: the forked process's
        next(pages)
    with pytest.raises(TransientError, match="Unpicklable: odd"):
        list(fetched_pages(None, fetch, [[7, 8]], forks=forks))


def test_a_run_ended_early_stops_its_forked_process():
    started = []

    def fetch(n):
        started.append(n)
        return os.getpid()

    pages = fetched_pages(None, fetch, ([n, n + 1] for n in range(0, 100, 2)), forks=Forks(processes=2, threads=1))
    child = next(pid for pid in next(pages) if pid != os.getpid())
    pages.close()  # the caller stops reading (a failed write, a cancelled run)
    assert not _alive(child)


def test_forked_processes_pace_at_their_share_and_their_waits_count_in_the_run():
    share = CallPool(rate=100.0, in_flight=2, sleep=lambda seconds: None)

    def fetch(n):
        share.pause(0.0)  # as if the vendor had said 429: each call is told to wait once
        return share.pacer.rate

    rates = [rate for page in fetched_pages(None, fetch, [[1, 2, 3, 4]],
                                            forks=Forks(processes=2, threads=1, share=share)) for rate in page]
    assert rates == [50.0] * 4  # here and in the forked copy
    assert share.waits == 4 and share.pacer.rate == 100.0  # the whole rate back after the run


def test_forks_are_for_large_runs_and_share_out_the_calls_in_flight(settings):
    settings.VENDOR_CALL_PROCESSES, settings.VENDOR_CALLS_PER_PROCESS = 2, 1000
    assert forks_for(1999, in_flight=8) is None
    assert forks_for(2000, in_flight=8) == Forks(processes=2, threads=4)
    assert forks_for(10**6, in_flight=5) == Forks(processes=2, threads=2)  # never more at once than asked
    assert forks_for(10**6, in_flight=1) is None
    settings.VENDOR_CALL_PROCESSES = 1
    assert forks_for(10**6, in_flight=8) is None
