"""`make demo`: the demo comes up on its embedded SQLite defaults, serves the staff pages
and the member app's doors, makes traffic, and Ctrl-C (SIGINT to its process group, as a
terminal sends it) or SIGTERM stops every process it started within 10 s."""

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from integrations.demo import DEMO_MEMBER
from integrations.sandbox.transports import free_ports

pytestmark = pytest.mark.worker  # it starts a django-q2 worker
ROOT = Path(__file__).resolve().parents[2]
STOP_SECONDS = 10


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


def descendants_of(pid: int) -> list[int]:
    """Every process below `pid` (children, their children, ...)."""
    found, queue = [], [pid]
    while queue:
        below = children_of(queue.pop())
        found += below
        queue += below
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


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """A database migrated and loaded as `make demo` does, copied for each test."""
    path = tmp_path_factory.mktemp("demo") / "loaded.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{path}", "LOG_LEVEL": "WARNING"}
    env.pop("REDIS_URL", None)
    manage(env, "migrate", "--noinput")
    manage(env, "demo_load")
    return path


@pytest.fixture
def demo_env(loaded, tmp_path):
    shutil.copy(loaded, tmp_path / "demo.sqlite3")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}", "LOG_LEVEL": "WARNING"}
    env.pop("REDIS_URL", None)
    return env


def demo_start(env, *args) -> tuple[subprocess.Popen, list[str], str]:
    """demo_serve on free ports in a process group of its own, as a terminal runs it."""
    port = free_ports(6)  # the web server's, then the five sandboxes' in a row
    sandbox_port = port + 1
    demo = subprocess.Popen(  # noqa: S603
        [sys.executable, "manage.py", "demo_serve", "--port", str(port), "--sandbox-port", str(sandbox_port), *args],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, process_group=0)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(demo.stdout), daemon=True).start()
    return demo, lines, f"http://127.0.0.1:{port}"


def wait_for(demo, lines, what: str, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while not any(line.startswith(what) for line in lines):
        assert demo.poll() is None and time.monotonic() < deadline, "".join(lines[-20:])
        time.sleep(0.5)


def stopped_within(demo, signum, *, group: bool) -> list[int]:
    """Send `signum` (to the whole process group when `group`); the processes still alive
    STOP_SECONDS later."""
    started = descendants_of(demo.pid)
    assert started
    (os.killpg if group else os.kill)(demo.pid, signum)
    deadline = time.monotonic() + STOP_SECONDS
    while time.monotonic() < deadline and (demo.poll() is None or any(alive(pid) for pid in started)):
        time.sleep(0.2)
    return [pid for pid in [demo.pid, *started] if alive(pid)]


def test_the_demo_comes_up_opens_doors_for_its_member_and_ctrl_c_stops_it_all(demo_env):
    demo, lines, web = demo_start(demo_env, "--traffic-seconds", "1")
    try:
        wait_for(demo, lines, "demo traffic: ")
        assert any("Gatehouse is running." in line for line in lines)
        assert any(f"member app: {DEMO_MEMBER[0]} / {DEMO_MEMBER[1]}" in line for line in lines)
        assert requests.get(f"{web}/staff/", allow_redirects=False, timeout=10).headers["Location"].startswith(
            "/admin/login/")
        assert requests.get(f"{web}/api/docs/", timeout=10).status_code == 200
        assert any(f"portal:     {web}/portal/" in line for line in lines)
        portal = requests.Session()
        portal.get(f"{web}/portal/login", timeout=10)
        home = portal.post(f"{web}/portal/login", timeout=10, headers={"Referer": f"{web}/portal/login"},
                           data={"identifier": DEMO_MEMBER[0], "password": DEMO_MEMBER[1],
                                 "csrfmiddlewaretoken": portal.cookies["csrftoken"]})
        assert home.url == f"{web}/portal/" and "Uxbridge main entrance" in portal.get(
            f"{web}/portal/doors/", timeout=10).text
        login = requests.post(f"{web}/api/v1/auth/login", json={"identifier": DEMO_MEMBER[0],
                                                                "password": DEMO_MEMBER[1]}, timeout=10)
        doors = requests.get(f"{web}/api/v1/doors", timeout=10,
                             headers={"Authorization": f"Bearer {login.json()['access']}"}).json()
        assert sorted((d["title"], d["opens_by"], bool(d["geofence"])) for d in doors) == [
            ("Spa Road front door", "payment", False), ("Uxbridge main entrance", "tag", False),
            ("Uxbridge side gate", "tag", True)]
        assert len(children_of(demo.pid)) == 2  # the worker and the web server
        left = stopped_within(demo, signal.SIGINT, group=True)
    finally:
        if demo.poll() is None:
            demo.kill()
    assert not left, "Ctrl-C left processes running"
    assert demo.returncode == 0


def test_sigterm_stops_it_all(demo_env):
    demo, lines, web = demo_start(demo_env, "--no-syncs", "--traffic-seconds", "1")
    try:
        wait_for(demo, lines, "demo traffic: ")
        left = stopped_within(demo, signal.SIGTERM, group=False)
    finally:
        if demo.poll() is None:
            demo.kill()
    assert not left, "SIGTERM left processes running"
