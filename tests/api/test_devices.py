"""Known devices: a device the member logged in from is not held up by other people's guesses."""

import pytest

from clients.lockout import login_device_remember, login_device_trusted
from clients.models import LoginCounter
from tests.api.helpers import PASSWORD, login, member_create

pytestmark = pytest.mark.django_db
HOME, CAFE = "203.0.113.7", "198.51.100.66"
PHONE, STOLEN_ELSEWHERE = "6f1c2b0e-9a4d-4c53-8e21-5d7f3a9b1c42", "0b7e55a1-3f0c-4d7e-a1d2-99c4be1f7a10"


@pytest.fixture
def locked_out(client, clock):
    """Ada logged in once from her phone at home; then guessers locked her identifier and the cafe pair."""
    member_create(email="ada@example.com")
    assert login(client, "ada@example.com", PASSWORD, ip=HOME, device=PHONE).status_code == 200
    for n in range(5):
        assert login(client, "ada@example.com", f"guess-{n}", ip=CAFE).status_code == 401
    for n in range(5, 12):
        login(client, "ada@example.com", f"guess-{n}", ip=f"192.0.2.{n}")
        clock.advance(seconds=1)
    return client


def test_a_known_device_gets_in_through_the_identifier_and_pair_locks(locked_out):
    other_device = login(locked_out, "ada@example.com", PASSWORD, ip="192.0.2.200", device=STOLEN_ELSEWHERE)
    cafe_without = login(locked_out, "ada@example.com", PASSWORD, ip=CAFE)
    cafe_phone = login(locked_out, "ada@example.com", PASSWORD, ip=CAFE, device=PHONE)
    new_address_phone = login(locked_out, "ada@example.com", PASSWORD, ip="192.0.2.201", device=PHONE)

    assert other_device.status_code == 429 and cafe_without.status_code == 429
    assert cafe_phone.status_code == 200 and new_address_phone.status_code == 200


def test_a_known_device_with_wrong_passwords_loses_its_trust(locked_out):
    identifier_failures = LoginCounter.objects.get(scope="identifier").failures

    wrong = [login(locked_out, "ada@example.com", f"phone-guess-{n}", ip="192.0.2.99", device=PHONE).status_code
             for n in range(5)]
    after = login(locked_out, "ada@example.com", PASSWORD, ip="192.0.2.99", device=PHONE)

    assert wrong == [401] * 5  # a stolen device id buys these few guesses...
    assert after.status_code == 429  # ...then it is an unknown device under the identifier's delay
    assert not login_device_trusted(identifier="ada@example.com", device_key=PHONE)
    assert LoginCounter.objects.get(scope="identifier").failures == identifier_failures  # counted on the device


def test_trust_belongs_to_one_identifier_and_lasts_trusted_days(client, clock):
    member_create(email="ada@example.com")
    member_create(email="bob@example.com")
    assert login(client, "ada@example.com", PASSWORD, ip=HOME, device=PHONE).status_code == 200
    for n in range(10):
        for who in ("ada", "bob"):
            login(client, f"{who}@example.com", "guess", ip=f"192.0.2.{n}")

    assert login(client, "bob@example.com", PASSWORD, ip=HOME, device=PHONE).status_code == 429
    assert login(client, "ada@example.com", PASSWORD, ip="192.0.2.50", device=PHONE).status_code == 200
    clock.advance(days=31)
    for n in range(10):
        login(client, "ada@example.com", "guess", ip=f"192.0.2.{n + 100}")
    assert login(client, "ada@example.com", PASSWORD, ip="192.0.2.51", device=PHONE).status_code == 429


def test_device_trust_is_a_service_any_caller_can_use_with_an_opaque_key(clock):
    assert not login_device_trusted(identifier="ada@example.com", device_key="cookie-value-1234")

    login_device_remember(identifier="Ada@Example.com ", device_key="cookie-value-1234")

    assert login_device_trusted(identifier="ada@example.com", device_key="cookie-value-1234")
    assert not login_device_trusted(identifier="ada@example.com", device_key="cookie-value-5678")
    assert not login_device_trusted(identifier="ada@example.com", device_key="")
    stored = LoginCounter.objects.get(scope="device")
    assert "cookie-value" not in stored.key and "ada" not in stored.key
    clock.advance(days=30, seconds=1)
    assert not login_device_trusted(identifier="ada@example.com", device_key="cookie-value-1234")


@pytest.mark.parametrize("device", ["short", "x" * 129])
def test_a_device_id_must_be_16_to_128_characters(client, device):
    member_create(email="ada@example.com")
    answer = login(client, "ada@example.com", PASSWORD, device=device)
    assert answer.status_code == 400 and "device_id" in answer.json()
