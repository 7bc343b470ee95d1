"""Member app login throughput with Gatehouse credentials, through gunicorn on loopback.

Starts gunicorn (BENCH_LOGIN_WORKERS sync workers, default 2) on a free port against
the benchmark database, logs members in from BENCH_LOGIN_CONCURRENCY threads (default 4)
for BENCH_LOGIN_REQUESTS requests (default 200, and at most BENCH_LOGIN_SECONDS, 180),
and reports requests/s, p50/p99 latency and the share of the workers' CPU time spent
hashing passwords: logins x the CPU cost of one check_password (measured here with the
same hasher and iterations) / the workers' CPU time (from /proc). Then it times failed
logins one at a time, unknown account against wrong password, to show they cost the same.
Throttles are lifted for the run (every request comes from 127.0.0.1).
"""

import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from django.contrib.auth.hashers import MD5PasswordHasher, check_password, get_hasher, make_password

from bench.support import ROOT, Figure
from clients.models import Client
from integrations.sandbox.transports import free_port

PASSWORD = "Bench-Password-2026"  # noqa: S105 - the benchmark members' password
TICKS = os.sysconf("SC_CLK_TCK")


def _members(count: int) -> list[str]:
    """`count` clients sharing one hashed password (hashing each would take minutes)."""
    encoded = make_password(PASSWORD)
    Client.objects.bulk_create(
        Client(first_name=f"Bench{n}", last_name="Member", email=f"bench{n}@example.com", password=encoded)
        for n in range(count)
    )
    return [f"bench{n}@example.com" for n in range(count)]


def _cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _start_gunicorn(port: int, workers: int, settings_module: str) -> tuple[subprocess.Popen, list[int]]:
    env = dict(os.environ, LOG_LEVEL="WARNING", CONN_MAX_AGE="60", DJANGO_SETTINGS_MODULE=settings_module,
               **{f"THROTTLE_{scope}": "1000000/min" for scope in
                  ("LOGIN_IP", "MEMBER_TOKEN", "TOKEN_REFRESH")})
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--workers", str(workers),
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--timeout", "60"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/api/v1/me", timeout=10)  # a quick 401
            pids = _children(process.pid)
            if len(pids) >= workers:
                return process, pids
        except (requests.ConnectionError, requests.Timeout):
            pass
        if process.poll() is not None:
            break
        time.sleep(0.3)
    process.terminate()
    raise RuntimeError("gunicorn did not start")


def _login(url: str, identifier: str, password: str = PASSWORD) -> tuple[int, float]:
    started = time.perf_counter()
    answer = requests.post(url, json={"identifier": identifier, "password": password}, timeout=60)
    return answer.status_code, time.perf_counter() - started


def _hash_cpu_seconds() -> float:
    """The CPU cost of one check_password with the default hasher (least disturbed of 5)."""
    encoded = make_password(PASSWORD)
    costs = []
    for _ in range(5):
        started = time.process_time()
        check_password(PASSWORD, encoded)
        costs.append(time.process_time() - started)
    return min(costs)


def _phase(settings_module: str, identifiers: list[str], *, count, concurrency, workers, budget,
           timing=False):
    """One gunicorn run: (login latencies, seconds, workers' CPU seconds, failure timings)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/api/v1/auth/login"
    process, pids = _start_gunicorn(port, workers, settings_module)
    try:
        for n in range(workers * 2):  # warm every worker up (imports, connections)
            _login(url, identifiers[n])
        cpu_before, started = _cpu_seconds(pids), time.perf_counter()
        stop_at = time.monotonic() + budget

        def one(n: int):
            return _login(url, identifiers[n % len(identifiers)]) if time.monotonic() < stop_at else None

        with ThreadPoolExecutor(concurrency) as pool:
            results = [r for r in pool.map(one, range(count)) if r is not None]
        elapsed, cpu = time.perf_counter() - started, _cpu_seconds(pids) - cpu_before
        failures = {"unknown": [], "wrong": []}
        for n in range(20 if timing else 0):  # interleaved, so load changes hit both alike
            failures["unknown"].append(_login(url, f"nobody{n}@example.com", "Wrong-Password-1")[1])
            failures["wrong"].append(_login(url, identifiers[-1 - n], "Wrong-Password-1")[1])
    finally:
        process.terminate()
        process.wait(timeout=30)
    if any(status != 200 for status, _ in results):
        raise RuntimeError(f"{sum(s != 200 for s, _ in results)} of {len(results)} logins failed")
    return sorted(seconds for _, seconds in results), elapsed, cpu, failures


def run() -> list[Figure]:
    options = {"count": int(os.environ.get("BENCH_LOGIN_REQUESTS", 200)),
               "concurrency": int(os.environ.get("BENCH_LOGIN_CONCURRENCY", 4)),
               "workers": int(os.environ.get("BENCH_LOGIN_WORKERS", 2)),
               "budget": float(os.environ.get("BENCH_LOGIN_SECONDS", 180))}
    identifiers = _members(max(options["count"], 50))
    hasher = get_hasher()
    hash_cpu = _hash_cpu_seconds()
    latencies, elapsed, cpu, failures = _phase("config.settings", identifiers, timing=True, **options)
    # The same logins with MD5 (nearly free) hashes: what is left is everything but hashing.
    fast = MD5PasswordHasher()
    Client.objects.update(password=fast.encode(PASSWORD, fast.salt()))
    fast_latencies, fast_elapsed, fast_cpu, _ = _phase("bench.settings_fast_hash", identifiers, **options)
    per_login, fast_per_login = cpu / len(latencies), fast_cpu / len(fast_latencies)
    setup = f"{options['workers']} gunicorn workers, {options['concurrency']} concurrent clients, " \
            f"{len(latencies)} logins"
    return [
        Figure("login throughput", len(latencies) / elapsed, "requests/s", setup),
        Figure("login p50 latency", _percentile(latencies, 0.5) * 1000, "ms", setup),
        Figure("login p99 latency", _percentile(latencies, 0.99) * 1000, "ms", setup),
        Figure("one password check", hash_cpu * 1000, "ms CPU",
               f"{hasher.algorithm}, {getattr(hasher, 'iterations', '?')} iterations, in this process"),
        Figure("worker CPU per login", per_login * 1000, "ms", "user+system time of the gunicorn workers"),
        Figure("worker CPU per login, MD5 hasher", fast_per_login * 1000, "ms",
               "the same run, hashing ~free"),
        Figure("share of worker CPU in password hashing", (1 - fast_per_login / per_login) * 100, "%",
               f"1 - CPU per login with MD5 / with {hasher.algorithm}"),
        Figure("login throughput, MD5 hasher", len(fast_latencies) / fast_elapsed, "requests/s",
               f"p99 {_percentile(fast_latencies, 0.99) * 1000:.0f} ms; the ceiling without hashing"),
        Figure("failed login, unknown account (median)", statistics.median(failures["unknown"]) * 1000, "ms",
               "20 sequential, interleaved with the next"),
        Figure("failed login, wrong password (median)", statistics.median(failures["wrong"]) * 1000, "ms",
               "20 sequential"),
    ]


def _percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]
