"""Login defences over HTTP: the per-IP flood guard, the lockout and its expiry, trusted addresses."""

import pytest

from clients.lockout import login_attempt_reserve, login_lock_status
from clients.models import LoginCounter
from tests.api.helpers import PASSWORD, login, member_create

pytestmark = pytest.mark.django_db
ATTACKER, MEMBER_IP = "198.51.100.66", "203.0.113.7"


@pytest.fixture
def rates(settings):
    """Set throttle rates for one test (the others stay generous)."""

    def set_rates(**overrides):
        generous = {"login_ip": "1000/min", "member_token": "1000/min", "token_refresh": "1000/min"}
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {**generous, **overrides}}

    set_rates()
    return set_rates


def test_per_ip_throttle_answers_429_with_retry_after(client, rates):
    rates(login_ip="3/min")
    member_create(email="ada@example.com")

    answers = [login(client, f"user{n}@example.com", "x", ip=ATTACKER) for n in range(3)]
    blocked = login(client, "ada@example.com", PASSWORD, ip=ATTACKER)
    elsewhere = login(client, "ada@example.com", PASSWORD, ip=MEMBER_IP)

    assert [a.status_code for a in answers] == [401, 401, 401]
    assert blocked.status_code == 429 and 0 < int(blocked.headers["Retry-After"]) <= 60
    assert elsewhere.status_code == 200


def test_successes_never_count_toward_a_limit(client):
    member_create(email="ada@example.com")  # the default rates: no identifier may be throttled for logging in

    answers = [login(client, "ada@example.com", PASSWORD, ip=MEMBER_IP).status_code for _ in range(12)]

    assert answers == [200] * 12
    assert set(LoginCounter.objects.values_list("failures", flat=True)) == {0}


def test_guesses_from_elsewhere_never_keep_the_member_out_of_their_usual_address(client, clock):
    member_create(email="ada@example.com")
    assert login(client, "ada@example.com", PASSWORD, ip=MEMBER_IP).status_code == 200

    for minute in range(5):  # ten wrong passwords a minute, from ever new addresses
        guesses = {login(client, "ada@example.com", "guess", ip=f"198.51.{minute}.{n}").status_code
                   for n in range(10)}
        assert guesses <= {401, 429}
        assert login(client, "ada@example.com", PASSWORD, ip=MEMBER_IP).status_code == 200
        clock.advance(minutes=1)


def test_forwarded_for_cannot_dodge_the_ip_throttle(client, rates):
    rates(login_ip="2/min")
    codes = [client.post("/api/v1/auth/login", {"identifier": "a@example.com", "password": "x"},
                         content_type="application/json", REMOTE_ADDR=ATTACKER,
                         HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code for n in range(3)]
    assert codes == [401, 401, 429]


def test_pair_lockout_stops_the_guesser_not_the_member_and_expires(client, rates, clock):
    member_create(email="ada@example.com")

    guesses = [login(client, "ada@example.com", f"guess-{n}", ip=ATTACKER).status_code for n in range(5)]
    locked = login(client, "ada@example.com", PASSWORD, ip=ATTACKER)
    member = login(client, "ada@example.com", PASSWORD, ip=MEMBER_IP)

    assert guesses == [401] * 5
    assert locked.status_code == 429 and locked.json() == {"detail": "Too many failed attempts. Try again later."}
    assert int(locked.headers["Retry-After"]) == 15 * 60
    assert member.status_code == 200

    clock.advance(minutes=14)
    for _ in range(20):  # hammering a lock neither counts nor extends it
        assert login(client, "ada@example.com", "guess", ip=ATTACKER).status_code == 429
    clock.advance(minutes=1, seconds=1)
    assert login(client, "ada@example.com", PASSWORD, ip=ATTACKER).status_code == 200


def test_unknown_identifiers_lock_exactly_like_real_ones(client, rates):
    member_create(email="ada@example.com")
    for identifier in ("ada@example.com", "nobody@example.com"):
        for _ in range(5):
            login(client, identifier, "guess", ip=ATTACKER)
    real, unknown = (login(client, i, "guess", ip=ATTACKER) for i in ("ada@example.com", "nobody@example.com"))
    assert (real.status_code, real.json(), real.headers["Retry-After"]) == (
        unknown.status_code, unknown.json(), unknown.headers["Retry-After"])


def test_guessing_from_many_addresses_delays_the_identifier_briefly(client, rates, clock):
    member_create(email="ada@example.com")
    login(client, "ada@example.com", PASSWORD, ip=MEMBER_IP)  # the member's usual address

    for n in range(10):
        assert login(client, "ada@example.com", "guess", ip=f"198.51.100.{n}").status_code == 401
    delayed = login(client, "ada@example.com", PASSWORD, ip="192.0.2.1")
    trusted = login(client, "ada@example.com", PASSWORD, ip=MEMBER_IP)

    assert delayed.status_code == 429 and int(delayed.headers["Retry-After"]) == 2
    assert trusted.status_code == 200  # an address the member logged in from is not delayed
    clock.advance(seconds=3)
    assert login(client, "ada@example.com", PASSWORD, ip="192.0.2.1").status_code == 200


def test_the_identifier_delay_doubles_and_is_capped_at_five_minutes(clock):
    delays = []
    for n in range(20):
        assert login_attempt_reserve(identifier="ada@example.com", ip=f"198.51.100.{n}").allowed
        status = login_lock_status(identifier="ada@example.com", ip=f"198.51.100.{n + 100}")
        delays.append(status.retry_after)
        clock.advance(seconds=status.retry_after)  # wait out each delay, then guess again
    assert delays[:9] == [0] * 9
    assert delays[9:17] == [2, 4, 8, 16, 32, 64, 128, 256]
    assert delays[17:] == [300, 300, 300]
    clock.advance(minutes=61)  # an hour without failures forgets them
    assert login_attempt_reserve(identifier="ada@example.com", ip="192.0.2.9").allowed
    assert not login_lock_status(identifier="ada@example.com", ip="192.0.2.10").locked
