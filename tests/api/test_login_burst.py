"""Simultaneous guesses: attempts are reserved before the password check, so a burst cannot outrun the limits."""

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from django.db import connection, connections

from clients.models import LoginCounter
from integrations.logins import member_login
from tests.api.helpers import COUNTING_HASHERS, PASSWORD, CountingHasher, member_create

GUESSES = 40


def burst(identifier: str, ip_of, password_of, size: int = GUESSES) -> list:
    """`size` logins started at the same instant from as many threads; their outcomes."""
    start = Barrier(size)

    def guess(n: int):
        start.wait()
        try:
            return member_login(identifier=identifier, password=password_of(n), ip=ip_of(n))
        finally:
            connections.close_all()

    with ThreadPoolExecutor(size) as pool:
        return list(pool.map(guess, range(size)))


@pytest.fixture
def postgres_and_counting(settings):
    if connection.vendor != "postgresql":
        pytest.skip("row locks between simultaneous connections need PostgreSQL (SQLite serialises writers)")
    settings.PASSWORD_HASHERS = COUNTING_HASHERS
    # However long the burst takes, the identifier's first delay does not run out within it.
    settings.MEMBER_LOCKOUT = {**settings.MEMBER_LOCKOUT, "identifier_base_seconds": 300}
    member_create(email="ada@example.com")
    CountingHasher.reset()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("spread, limit", [("one address", 5), ("forty addresses", 10)])
def test_forty_simultaneous_guesses_reach_the_password_check_no_more_than_the_limits(postgres_and_counting,
                                                                                     spread, limit):
    outcomes = burst("ada@example.com", (lambda n: "198.51.100.66") if spread == "one address"
                     else (lambda n: f"198.51.100.{n}"), lambda n: f"guess-{n}")

    assert CountingHasher.calls == limit
    assert sum(o.locked for o in outcomes) == GUESSES - limit and not any(o.ok for o in outcomes)
    assert LoginCounter.objects.get(scope="identifier").failures == limit


@pytest.mark.django_db(transaction=True)
def test_successes_in_a_burst_release_their_reservations_exactly(postgres_and_counting):
    for round_ in range(5):  # nine at once (under the limit of ten), five times: nothing may be left over
        outcomes = burst("ada@example.com", lambda n, r=round_: f"203.0.{r}.{n}", lambda n: PASSWORD, size=9)
        assert all(o.ok for o in outcomes)

    assert CountingHasher.calls == 45
    assert LoginCounter.objects.get(scope="identifier").failures == 0
