"""Member systems are asked at the same time, each within its own budget; one that cannot
answer neither decides for another's members nor counts against anybody."""

from types import SimpleNamespace

import pytest

from clients.models import Client, LoginCounter
from integrations.example.sandbox import API_KEY, ExampleSandbox
from integrations.sandbox.transports import mounted, served
from integrations.services import integration_save
from tests.api.helpers import PASSWORD, login, member_create

VENDOR_PASSWORD = "Vendor-Pass-31"
UNAVAILABLE = {"detail": "The member systems cannot be reached. Try again later."}


pytestmark = pytest.mark.usefixtures("fast_and_fresh")


def clubs(first_url: str, second_url: str) -> SimpleNamespace:
    """Two example member systems, "First club" asked first in login order."""
    made = [integration_save(kind="example", name=name, secrets={"api_key": API_KEY},
                             settings={"base_url": url, "member_minutes": 5, "login_order": order})
            for order, (name, url) in enumerate([("First club", first_url), ("Second club", second_url)], 1)]
    return SimpleNamespace(first=made[0], second=made[1])


def verify_calls(fake: ExampleSandbox) -> int:
    return sum(1 for call in fake.calls if call.path == "members/verify")


def counted_failures() -> int:
    return sum(LoginCounter.objects.values_list("failures", flat=True))


def test_a_hanging_member_system_neither_stops_another_ones_member_nor_counts(client, settings):
    settings.MEMBER_LOGIN_VENDOR_SECONDS = 0.5
    hanging, working = ExampleSandbox(members=3), ExampleSandbox(members=3)
    hanging.inject(delay=3, times=50)  # holds every answer far past the budget
    working.member_password_set("m2", VENDOR_PASSWORD)
    with served(hanging) as hanging_url, served(working) as working_url:
        made = clubs(hanging_url, working_url)
        answers = [login(client, "m2@example.com", VENDOR_PASSWORD) for _ in range(3)]

    assert [a.status_code for a in answers] == [200] * 3
    assert Client.objects.get(pk=answers[0].json()["client"]["id"]).source == made.second.source
    assert verify_calls(hanging) == 3 and counted_failures() == 0


def test_the_login_order_decides_even_when_the_first_answers_last(client, settings):
    settings.MEMBER_LOGIN_VENDOR_SECONDS = 2
    slow, fast = ExampleSandbox(members=3), ExampleSandbox(members=3)
    for fake in (slow, fast):
        fake.member_password_set("m1", VENDOR_PASSWORD)
    slow.inject(delay=0.3, path="members/verify")
    with served(slow) as slow_url, served(fast) as fast_url:
        made = clubs(slow_url, fast_url)
        answer = login(client, "m1@example.com", VENDOR_PASSWORD)

    assert Client.objects.get(pk=answer.json()["client"]["id"]).source == made.first.source
    assert verify_calls(slow) == 1 and verify_calls(fast) == 1  # both were asked, at once


def test_when_no_member_system_can_answer_the_answer_is_503_for_everyone_and_only_the_address_counts(client):
    first, second = ExampleSandbox(members=3), ExampleSandbox(members=3)
    second.member_password_set("m2", VENDOR_PASSWORD)
    member_create(email="ada@example.com")
    for fake in (first, second):
        fake.inject(status=503, times=1000)
    with mounted((first, "https://first.test/api/"), (second, "https://second.test/api/")):
        clubs("https://first.test/api/", "https://second.test/api/")
        answers = [login(client, identifier, password, ip=f"192.0.2.{n}") for n, (identifier, password) in
                   enumerate([("nobody@example.com", "x"), ("ada@example.com", "wrong"),
                              ("m2@example.com", VENDOR_PASSWORD), ("m2@example.com", "wrong")])]
        repeated = [login(client, "ada@example.com", f"guess-{n}", ip="198.51.100.66").status_code
                    for n in range(12)]
        own = login(client, "ada@example.com", PASSWORD, ip="203.0.113.9")

    assert {(a.status_code, a.headers["Retry-After"], a.content) for a in answers} == {
        (503, "30", b'{"detail":"The member systems cannot be reached. Try again later."}')}
    assert answers[0].json() == UNAVAILABLE
    # The identifier is never counted, so the member is never locked out by the outage; but one
    # address cannot guess Gatehouse's own password freely meanwhile: its pair limit holds.
    assert repeated == [503] * 5 + [429] * 7
    assert set(LoginCounter.objects.filter(failures__gt=0).values_list("scope", flat=True)) == {"pair"}
    assert own.status_code == 200  # Gatehouse's own password does not need them


def test_a_system_that_cannot_answer_leaves_the_others_no_to_count(client):
    down, up = ExampleSandbox(members=3), ExampleSandbox(members=3)
    down.inject(status=503, times=10)
    with mounted((down, "https://first.test/api/"), (up, "https://second.test/api/")):
        clubs("https://first.test/api/", "https://second.test/api/")
        answer = login(client, "m1@example.com", "wrong")

    assert answer.status_code == 401 and verify_calls(up) == 1
    assert LoginCounter.objects.get(scope="identifier").failures == 1
