"""The unlock service: pay once per key, open the door, refund when it fails, log every attempt."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection

import accessctl.unlocks
from accessctl.backends import UnlockResult
from accessctl.decisions import door_decide
from accessctl.models import DoorAccess, UnlockAttempt
from accessctl.services import DoorEntry, door_accesses_record
from accessctl.unlocks import door_unlock
from integrations.models import Integration
from packages.models import Booking, ClientPackage, CreditEntry, Package
from tests.accessctl.conftest import LAT, LON, MONDAY_2PM_UTC, held, rules_set, visit_type_add
from tests.accessctl.doubles import RecordingDoors
from tests.factories import BookingFactory, ClassSessionFactory, TagFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pack(door, member):
    """Paid access on the door: a visit costs 2 credits from the member's 5-credit pack."""
    rules_set(door, paid_access=True)
    package = held(member, Package.Kind.CREDIT_PACK, credits=5, name="5-visit pack")
    visit_type_add(door, packages=[package.package], price=2)
    return package


def unlock(member, door, key="tap-1", lat=LAT, lon=LON, now=MONDAY_2PM_UTC):
    return door_unlock(client=member, door=door, latitude=lat, longitude=lon, request_id=key, now=now)


def balance(package) -> int:
    return ClientPackage.objects.get(pk=package.pk).credits_remaining


def test_a_paid_unlock_takes_the_credits_opens_the_door_and_logs_it(doors_backend, door, member, pack):
    attempt = unlock(member, door)
    assert attempt.outcome == UnlockAttempt.Outcome.OPENED and attempt.credits == 2
    assert balance(pack) == 3
    entry = CreditEntry.objects.get(client_package=pack)
    assert (entry.change, entry.reference) == (-2, "unlock:tap-1")
    assert doors_backend.calls == [(door.pk, LAT, LON)]
    logged = UnlockAttempt.objects.get()
    assert (logged.door_answer, logged.visit_type_name, logged.method) == ("Unlocked!", "Open gym visit", "payment")
    assert logged.distance_m == pytest.approx(0, abs=0.01)


def test_an_opened_door_is_a_door_access_that_marks_the_booking_attended(doors_backend, door, member):
    tag = TagFactory(name="members")
    member.tags.add(tag)
    rules_set(door, tags=[tag])
    booking = BookingFactory(client=member, session=ClassSessionFactory(
        location=door.location, start=MONDAY_2PM_UTC + timedelta(minutes=20)))
    attempt = unlock(member, door)
    access = DoorAccess.objects.get()
    assert (access.source, access.source_ref, access.granted) == ("gatehouse", str(attempt.pk), True)
    assert access.accessed_at == MONDAY_2PM_UTC
    assert Booking.objects.get(pk=booking.pk).attended


def test_a_double_submit_with_one_key_charges_and_opens_once(doors_backend, door, member, pack):
    first = unlock(member, door, key="tap-7")
    second = unlock(member, door, key="tap-7")
    assert second.pk == first.pk and second.outcome == UnlockAttempt.Outcome.OPENED
    assert balance(pack) == 3 and len(doors_backend.calls) == 1
    assert UnlockAttempt.objects.count() == 1 and DoorAccess.objects.count() == 1


def test_two_taps_are_two_visits(doors_backend, door, member, pack):
    unlock(member, door, key="tap-1")
    unlock(member, door, key="tap-2")
    assert balance(pack) == 1 and len(doors_backend.calls) == 2


def test_credits_never_go_below_zero(doors_backend, door, member, pack):
    unlock(member, door, key="tap-1")
    unlock(member, door, key="tap-2")
    refused = unlock(member, door, key="tap-3")
    assert refused.outcome == UnlockAttempt.Outcome.REFUSED
    assert refused.reason == "Not enough credits: Open gym visit costs 2 credits and your 5-visit pack has 1 left."
    assert balance(pack) == 1 and len(doors_backend.calls) == 2


def test_credits_spent_elsewhere_after_the_decision_refuse_without_going_negative(
    doors_backend, door, member, pack, monkeypatch
):
    stale = door_decide(client=member, door=door, latitude=LAT, longitude=LON, at=MONDAY_2PM_UTC)
    ClientPackage.objects.filter(pk=pack.pk).update(credits_remaining=1)  # another visit paid meanwhile
    monkeypatch.setattr(accessctl.unlocks, "door_decide", lambda **kwargs: stale)
    attempt = unlock(member, door)
    assert attempt.outcome == UnlockAttempt.Outcome.REFUSED
    assert attempt.reason == "Not enough credits left on your 5-visit pack."
    assert balance(pack) == 1 and doors_backend.calls == [] and not CreditEntry.objects.exists()
    assert UnlockAttempt.objects.get().credits == 0


@pytest.mark.parametrize("failure", ["answer", "exception", "no-backend"])
def test_a_door_that_does_not_open_refunds_the_credits(doors_backend, door, member, pack, settings, failure):
    if failure == "answer":
        doors_backend.answer = UnlockResult(False, "Lock is offline", False)
    elif failure == "exception":
        doors_backend.error = ConnectionError("Kisi did not answer")
    else:
        settings.ACCESS_DOOR_BACKENDS = {}
    attempt = unlock(member, door)
    assert attempt.outcome == UnlockAttempt.Outcome.FAILED and attempt.refunded
    assert attempt.reason.endswith("Your 2 credits were refunded.")
    assert balance(pack) == 5
    assert sorted(CreditEntry.objects.values_list("change", "reference")) == [
        (-2, "unlock:tap-1"), (2, "refund:unlock:tap-1")]
    assert not DoorAccess.objects.exists()


def test_the_failure_says_what_the_door_system_answered(doors_backend, door, member, pack):
    doors_backend.answer = UnlockResult(False, "Lock is offline", False)
    attempt = unlock(member, door)
    assert attempt.reason == "The door did not open (Lock is offline). Your 2 credits were refunded."
    assert UnlockAttempt.objects.get().door_online is False


def test_a_refused_unlock_is_logged_and_never_reaches_the_door(doors_backend, door, member):
    rules_set(door, tags=[TagFactory(name="staff")])
    attempt = unlock(member, door)
    assert attempt.outcome == UnlockAttempt.Outcome.REFUSED
    assert UnlockAttempt.objects.get().reason == "You do not have a tag that opens this door."
    assert doors_backend.calls == [] and not DoorAccess.objects.exists()


def test_a_refused_key_answers_the_same_when_sent_again(doors_backend, door, member, pack):
    far = float(LAT) + 1
    rules_set(door, geofence=True, geofence_radius=300, geofence_unit="ft")
    first = unlock(member, door, lat=far)
    assert unlock(member, door, lat=LAT).pk == first.pk  # same key: the first answer, not a new try
    assert first.outcome == UnlockAttempt.Outcome.REFUSED and balance(pack) == 5


# Check-ins follow Gatehouse's own unlocks through the door_accesses_recorded signal ------------

@pytest.fixture
def wakes(monkeypatch):
    calls = []
    monkeypatch.setattr("integrations.receivers.door_accesses_notify", lambda **kw: calls.append(kw))
    return calls


def test_an_opened_door_wakes_the_check_in_syncs_once(doors_backend, door, member, pack, wakes):
    unlock(member, door, key="tap-1")
    unlock(member, door, key="tap-1")
    assert wakes == [{"origin": None}]


def test_accesses_a_door_system_records_wake_others_but_not_itself(door, member, wakes):
    kisi = Integration.objects.create(kind="kisi", name="Kisi")
    entry = DoorEntry(client_id=member.pk, door=door, accessed_at=MONDAY_2PM_UTC, granted=True, source_ref="e1")
    door_accesses_record(source=kisi.source, entries=[entry])
    door_accesses_record(source=kisi.source, entries=[entry])  # a repeat stores nothing, wakes nobody
    refused = DoorEntry(client_id=member.pk, door=door, accessed_at=MONDAY_2PM_UTC, granted=False, source_ref="e2")
    door_accesses_record(source=kisi.source, entries=[refused])  # no check-in for a refused entry
    assert wakes == [{"origin": kisi}]


# A real double submit: two requests with one key at the same moment (PostgreSQL row locks) ------

@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent transactions")
def test_concurrent_submits_with_one_key_charge_once(doors_backend, door, pack):
    member = pack.client
    doors_backend.answer = UnlockResult(True, "Unlocked!", True)
    original = RecordingDoors.unlock

    def slow(self, door, **kwargs):
        time.sleep(0.3)  # the second request arrives while the first is at the door
        return original(self, door, **kwargs)

    RecordingDoors.unlock = slow
    answers = []

    def tap():
        try:
            answers.append(unlock(member, door, key="same").outcome)
        finally:
            connection.close()

    try:
        threads = [threading.Thread(target=tap) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        RecordingDoors.unlock = original
    assert balance(pack) == 3 and len(doors_backend.calls) == 1
    assert sorted(answers) in (["opened", "opened"], ["opened", "pending"])
    assert UnlockAttempt.objects.count() == 1
