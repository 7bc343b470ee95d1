"""The door decision for a member with 20 packages and 50 bookings: p50, p99, queries and CPU.

Also the member app's door list (10 doors) and the whole unlock (decide, pay, log, open
through an instant in-process door backend, record the door access).
"""

import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accessctl.backends import DoorBackend, UnlockResult
from accessctl.decisions import door_decide, doors_openable
from accessctl.models import Door, DoorRules, VisitAvailability, VisitType
from accessctl.unlocks import door_unlock
from bench.support import Figure
from clients.models import Client, Location, Tag
from packages.models import Booking, ClassSession, ClientPackage, Package

DECISIONS = int(os.environ.get("BENCH_DOOR_DECISIONS", 2000))
LISTS = int(os.environ.get("BENCH_DOOR_LISTS", 300))
UNLOCKS = int(os.environ.get("BENCH_DOOR_UNLOCKS", 300))
AT = datetime(2026, 10, 5, 14, 0, tzinfo=UTC)  # a Monday, 15:00 in London
KINDS = [Package.Kind.CREDIT_PACK, Package.Kind.UNLIMITED, Package.Kind.COMBINED_LIMIT,
         Package.Kind.SEPARATE_LIMITS, Package.Kind.MEMBERSHIP]


class InstantDoors(DoorBackend):
    """A door that opens at once (the benchmark measures Gatehouse, not Kisi)."""

    def unlock(self, door, *, latitude=None, longitude=None):
        return UnlockResult(True, "Unlocked!", True)


def club() -> tuple[Client, Door, list[Door]]:
    """A location with 10 doors (tags, paid visits with hours, geofence) and one busy member."""
    location = Location.objects.create(name="Riverside", alt_id="RIV", time_zone="Europe/London",
                                       latitude=Decimal("51.500700"), longitude=Decimal("-0.124600"))
    tags = Tag.objects.bulk_create(Tag(name=f"tag-{i}") for i in range(10))
    packages = Package.objects.bulk_create(
        Package(name=f"Package {i}", alt_id=f"P{i}", kind=KINDS[i % len(KINDS)], credits=20) for i in range(20))
    member = Client.objects.create(first_name="Ada", last_name="Lovelace", email="ada@example.com",
                                   home_location=location)
    member.tags.add(*tags[5:8])  # none of them opens the measured door
    ClientPackage.objects.bulk_create(
        ClientPackage(client=member, package=p, start=AT - timedelta(days=30),
                      end=AT + timedelta(days=i + 1), credits_remaining=10_000) for i, p in enumerate(packages))
    sessions = ClassSession.objects.bulk_create(
        ClassSession(name=f"Class {i % 7}", location=location, start=AT + timedelta(hours=i - 25),
                     end=AT + timedelta(hours=i - 24)) for i in range(50))
    Booking.objects.bulk_create(Booking(session=s, client=member) for s in sessions)
    doors = []
    for i in range(10):
        door = Door.objects.create(title=f"Door {i}", door_id=f"D{i}", location=location, access_control="kisi",
                                   kisi_lock_id=str(100 + i))
        rules = DoorRules.objects.create(door=door, paid_access=True, geofence=True, geofence_radius=1000)
        rules.tags.add(*tags[:3])
        for price in (1, 2, 3):
            visit = VisitType.objects.create(door=door, name=f"Visit {price}", price=price)
            visit.packages.set(packages[price:price + 12])
            VisitAvailability.objects.create(visit_type=visit, start_time=datetime(1, 1, 1, 6).time(),
                                             end_time=datetime(1, 1, 1, 22).time())
            VisitAvailability.objects.create(visit_type=visit, saturday=True, sunday=True, monday=False,
                                             tuesday=False, wednesday=False, thursday=False, friday=False,
                                             start_time=datetime(1, 1, 1, 8).time())
        doors.append(door)
    return member, doors[0], doors


def percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return statistics.median(samples), cuts[98]


def timed_ms(call, times: int) -> list[float]:
    samples = []
    for i in range(times):
        started = time.perf_counter()
        call(i)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def run() -> list[Figure]:
    member, door, doors = club()
    where = {"latitude": 51.5012, "longitude": -0.1246}  # about 55 m from the club
    decision = door_decide(client=member, door=door, at=AT, **where)
    assert decision.allowed and decision.method == "payment", decision.reason
    with CaptureQueriesContext(connection) as queries:
        door_decide(client=member, door=door, at=AT, **where)
    cpu = time.process_time()
    decide_p50, decide_p99 = percentiles(timed_ms(
        lambda _: door_decide(client=member, door=door, at=AT, **where), DECISIONS))
    decide_cpu = (time.process_time() - cpu) / DECISIONS * 1000
    assert len(doors_openable(client=member, at=AT, **where)) == len(doors)
    cpu = time.process_time()
    list_p50, list_p99 = percentiles(timed_ms(lambda _: doors_openable(client=member, at=AT, **where), LISTS))
    list_cpu = (time.process_time() - cpu) / LISTS * 1000
    settings.ACCESS_DOOR_BACKENDS = {"kisi": "bench.bench_door_decision.InstantDoors"}
    unlock_p50, unlock_p99 = percentiles(timed_ms(
        lambda i: door_unlock(client=member, door=door, request_id=f"bench-{i}", now=AT, **where), UNLOCKS))
    note = "member with 20 packages, 50 bookings; door with 3 visit types"
    return [
        Figure("door decision p50", decide_p50, "ms", f"{DECISIONS} decisions, {note}"),
        Figure("door decision p99", decide_p99, "ms", f"{DECISIONS} decisions"),
        Figure("door decision queries", len(queries), "queries", "per decision"),
        Figure("door decision CPU", decide_cpu, "ms", "per decision, this process (the database's not counted); "
               f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"),
        Figure("door list p50", list_p50, "ms", f"{LISTS} lists of {len(doors)} doors"),
        Figure("door list p99", list_p99, "ms", f"{LISTS} lists"),
        Figure("door list CPU", list_cpu, "ms", "per list, this process"),
        Figure("unlock p50", unlock_p50, "ms", f"{UNLOCKS} paid unlocks: decide, pay, log, open, record"),
        Figure("unlock p99", unlock_p99, "ms", f"{UNLOCKS} paid unlocks"),
    ]
