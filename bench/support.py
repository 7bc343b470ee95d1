"""What benchmarks share: a sandbox served by its own process, the app served by gunicorn,
memory and timers."""

import contextlib
import os
import resource
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import requests

from integrations.sandbox.transports import free_port

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Figure:
    """One measured figure of one benchmark."""

    figure: str
    value: float
    unit: str
    note: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


@contextlib.contextmanager
def sandbox_process(kind: str, *, members: int, seed: int = 1, ready_timeout: float = 600):
    """Serve a vendor sandbox from a separate process (so it does not share our GIL).

    Yields its base URL; stops it afterwards.
    """
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "sandbox", kind, "--port", str(port), "--members", str(members),
         "--seed", str(seed)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ),
    )
    deadline = time.monotonic() + ready_timeout
    try:
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the {kind} sandbox did not start")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        process.wait(timeout=30)


def process_start(command: list[str], env: dict) -> subprocess.Popen:
    """Start one of our own commands (e.g. `manage.py qcluster`) from the project root, quietly."""
    return subprocess.Popen(command, cwd=ROOT, env=env,  # noqa: S603 - our interpreter, fixed arguments
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def web_start(port: int, *, workers: int, threads: int, env: dict) -> subprocess.Popen:
    """Serve the app with gunicorn (gthread) on 127.0.0.1:`port`; returns once it answers."""
    # Threads: a webhook mostly waits on its one commit (the event and its task), not on the CPU.
    web = process_start([sys.executable, "-m", "gunicorn", "config.wsgi:application", "--workers", str(workers),
                         "--worker-class", "gthread", "--threads", str(threads),
                         "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--timeout", "60"], env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/api/schema/", timeout=5)
            return web
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.3)
    web.terminate()
    raise RuntimeError("gunicorn did not start")


def peak_memory_mb() -> float:
    """The peak resident memory of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_memory_reset() -> None:
    """Start measuring this process's peak resident memory afresh (Linux; elsewhere nothing),
    for peak_memory_since_reset_mb: one benchmark process, several scales."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_memory_since_reset_mb() -> float:
    """The peak resident memory of this process since peak_memory_reset, in MB (Linux's
    VmHWM; elsewhere the peak of the whole run)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        status = Path("/proc/self/status").read_text()
        return int(status.split("VmHWM:")[1].split()[0]) / 1024
    return peak_memory_mb()


def database_cpu_seconds() -> float | None:
    """CPU seconds the default connection's PostgreSQL backend has used, when it runs on this
    machine (read from /proc); None otherwise."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        if Path(f"/proc/{pid}/comm").read_text().strip() != "postgres":
            return None  # the database runs elsewhere: this pid is another process
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def timed():
    """`with timed() as t: ...` then t.seconds."""

    class Timer:
        seconds = 0.0

    timer = Timer()
    started = time.perf_counter()
    try:
        yield timer
    finally:
        timer.seconds = time.perf_counter() - started
