"""Member login defences, measured in-process (Django's test client) on the benchmark database.

With the default password hasher (the cost of a login is its hashing): the median time of
BENCH_DEFENCE_TRIES (default 30) failed logins of each kind, interleaved so load changes hit
them alike: an unknown identifier, a wrong password for one account, a wrong password for
an e-mail three accounts share; and of correct ones for reference. Each try uses its own
identifier and address, so no limit is reached. Then 40 wrong guesses started at the same
instant for one identifier, from one address and from 40, and how many reached the password
check (the hasher's calls, counted) against the limits of 5 per pair and 10 per identifier.
The per-IP request throttle is lifted for the burst, so the figure is the lockout's alone.
"""

import os
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password
from django.db import connections
from django.test import Client as HttpClient
from django.test import override_settings

from bench.support import Figure
from clients.models import Client

PASSWORD = "Bench-Password-2026"  # noqa: S105 - the benchmark members' password
URL = "/api/v1/auth/login"
GUESSES = 40


def _accounts(tries: int) -> None:
    """Per try: one account, three sharing an e-mail; one account for the bursts (one hash for all)."""
    encoded = make_password(PASSWORD)
    rows = [Client(first_name=f"Solo{n}", email=f"solo{n}@example.com", password=encoded) for n in range(tries)]
    rows += [Client(first_name=f"Family{n}", last_name=str(k), email=f"family{n}@example.com", password=encoded)
             for n in range(tries) for k in range(3)]
    rows += [Client(first_name="Burst", last_name=spread, email=f"burst-{spread}@example.com", password=encoded)
             for spread in ("one", "many")]
    Client.objects.bulk_create(rows)


def _login(http: HttpClient, identifier: str, password: str, ip: str) -> tuple[int, float]:
    started = time.perf_counter()
    answer = http.post(URL, {"identifier": identifier, "password": password}, content_type="application/json",
                       REMOTE_ADDR=ip)
    return answer.status_code, time.perf_counter() - started


def _timings(tries: int) -> dict[str, list[float]]:
    http = HttpClient()
    kinds = {
        "unknown identifier": lambda n: (f"nobody{n}@example.com", PASSWORD, 401),
        "wrong password": lambda n: (f"solo{n}@example.com", "Wrong-Password-1", 401),
        "identifier shared by 3 accounts": lambda n: (f"family{n}@example.com", "Wrong-Password-1", 401),
        "correct password": lambda n: (f"solo{n}@example.com", PASSWORD, 200),
    }
    _login(http, "warm-up@example.com", "x", "10.255.0.1")
    seen: dict[str, list[float]] = {kind: [] for kind in kinds}
    for n in range(tries):
        for k, (kind, case) in enumerate(kinds.items()):
            identifier, password, expected = case(n)
            status, seconds = _login(http, identifier, password, f"10.{k}.{n // 250}.{n % 250 + 1}")
            if status != expected:
                raise RuntimeError(f"{kind}: {status}, expected {expected}")
            seen[kind].append(seconds)
    return seen


def _burst(identifier: str, ip_of) -> tuple[int, dict[int, int]]:
    """GUESSES wrong passwords at once: (password checks made, answers by status)."""
    calls, lock, start = [0], threading.Lock(), threading.Barrier(GUESSES)
    original = PBKDF2PasswordHasher.encode

    def counting(self, password, salt, iterations=None):
        with lock:
            calls[0] += 1
        return original(self, password, salt, iterations)

    def guess(n: int) -> int:
        http = HttpClient()
        start.wait()
        try:
            return _login(http, identifier, f"guess-{n}", ip_of(n))[0]
        finally:
            connections.close_all()

    PBKDF2PasswordHasher.encode = counting
    try:
        with ThreadPoolExecutor(GUESSES) as pool:
            statuses = list(pool.map(guess, range(GUESSES)))
    finally:
        PBKDF2PasswordHasher.encode = original
    return calls[0], {code: statuses.count(code) for code in sorted(set(statuses))}


def run() -> list[Figure]:
    tries = int(os.environ.get("BENCH_DEFENCE_TRIES", 30))
    _accounts(tries)
    seen = _timings(tries)
    figures = [Figure(f"login, {kind} (median)", statistics.median(values) * 1000, "ms",
                      f"{tries} tries, min {min(values) * 1000:.0f} / max {max(values) * 1000:.0f} ms")
               for kind, values in seen.items()]
    lifted = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "login_ip": "100000/min"}}
    with override_settings(REST_FRAMEWORK=lifted):
        for spread, ip_of, limit in (("one", lambda n: "198.51.100.66", 5),
                                     ("many", lambda n: f"198.51.100.{n + 1}", 10)):
            checks, answers = _burst(f"burst-{spread}@example.com", ip_of)
            where = "one address" if spread == "one" else f"{GUESSES} addresses"
            figures.append(Figure(f"{GUESSES} simultaneous guesses from {where}: password checks", checks,
                                  "checks", f"limit {limit}; answers {answers}"))
    return figures
