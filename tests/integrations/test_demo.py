"""`make demo`: the demo comes up on its embedded SQLite defaults, serves the staff pages,
makes traffic, and a kill (like Ctrl-C) stops every process it started."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from integrations.sandbox.transports import free_port

pytestmark = pytest.mark.worker  # it starts a django-q2 worker
ROOT = Path(__file__).resolve().parents[2]


def manage(env, *args) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True,  # noqa: S603
                   stdout=subprocess.DEVNULL)


def children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # it ended while we looked
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_the_demo_comes_up_makes_traffic_and_a_kill_stops_it_all(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}", "LOG_LEVEL": "WARNING"}
    env.pop("REDIS_URL", None)
    manage(env, "migrate", "--noinput")
    manage(env, "demo_load")
    port, sandbox_port = free_port(), free_port()
    demo = subprocess.Popen(  # noqa: S603
        [sys.executable, "manage.py", "demo_serve", "--port", str(port), "--sandbox-port", str(sandbox_port),
         "--traffic-seconds", "1"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(demo.stdout), daemon=True).start()
    try:
        deadline = time.monotonic() + 180
        while not any(line.startswith("demo traffic: ") for line in lines):
            assert demo.poll() is None and time.monotonic() < deadline, "".join(lines[-20:])
            time.sleep(0.5)
        assert any("Gatehouse is running." in line for line in lines)
        web = f"http://127.0.0.1:{port}"
        assert requests.get(f"{web}/staff/", allow_redirects=False, timeout=10).headers["Location"].startswith(
            "/admin/login/")
        assert requests.get(f"{web}/api/docs/", timeout=10).status_code == 200
        started = children_of(demo.pid)
        assert len(started) == 2  # the worker and the web server
    finally:
        demo.send_signal(signal.SIGTERM)
        demo.wait(timeout=60)
    time.sleep(1)
    assert not [pid for pid in started if alive(pid)], "the demo left processes running"
