"""The demo: every vendor sandbox, one integration each, their initial syncs, the web
server and a task worker, and a little traffic every few seconds.

Ctrl-C (SIGINT, which a terminal sends to the whole foreground process group) and SIGTERM
stop it all within 10 s: the web server and the worker run in process groups of their
own, so only this command hears the terminal. It asks each to stop (SIGTERM to the
process it started: a task worker that gets it together with its own workers hangs in
"stopping"), then kills whatever of each group is left after STOP_SECONDS.
"""

import os
import random
import signal
import socket
import subprocess
import sys
import time

import requests
from django.core.management.base import BaseCommand, CommandError

from integrations.connectors import connector_class
from integrations.demo import DEMO_ADMIN, DEMO_MEMBER
from integrations.demo_vendors import (
    SandboxPortTaken,
    demo_initial_syncs,
    demo_integrations_ensure,
    demo_kinds,
    demo_ready,
    demo_sandboxes_start,
    demo_sandboxes_stop,
    demo_traffic,
)

STOP_SECONDS = 6  # SIGTERM's grace before SIGKILL; the whole stop stays under 10 s


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def port_taken(port: int) -> bool:
    """Whether a program listens on 127.0.0.1:`port` (bound as the servers bind it)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def processes_stop(children: list[subprocess.Popen], *, grace: float = STOP_SECONDS) -> None:
    """SIGTERM each child (each leads a process group), then SIGKILL whatever of its group is
    left after `grace` seconds."""
    for child in children:
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + grace
    for child in children:
        try:
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for child in children:  # the leader may be gone while its workers still stop
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except ProcessLookupError:  # the whole group has ended
            pass
        child.wait()


class Command(BaseCommand):
    help = "Run the demo: vendor sandboxes, integrations, web server and worker (Ctrl-C stops all)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000, help="The web server's port (make demo PORT=N).")
        parser.add_argument("--sandbox-port", type=int, default=8101,
                            help="The first sandbox's port; the others follow it (make demo SANDBOX_PORT=N).")
        parser.add_argument("--traffic-seconds", type=float, default=10.0, help="Seconds between demo events.")
        parser.add_argument("--no-syncs", action="store_true", help="Skip the initial syncs.")

    def _ports_check(self, port: int, sandbox_port: int) -> None:
        kinds = demo_kinds()
        last = sandbox_port + len(kinds) - 1
        if port_taken(port):
            raise CommandError(f"Port {port} (the web server's) is taken: choose another with PORT=N "
                               "(make demo PORT=8080) or --port N.")
        if sandbox_port <= port <= last:
            raise CommandError(f"The web server's port {port} lies among the sandboxes' {sandbox_port}-{last}: "
                               "move one with PORT=N or --sandbox-port N.")
        for offset, kind in enumerate(kinds):
            if port_taken(sandbox_port + offset):
                raise self._sandbox_port_error(SandboxPortTaken(port=sandbox_port + offset, kind=kind), len(kinds))

    def _sandbox_port_error(self, error: SandboxPortTaken, count: int) -> CommandError:
        label = connector_class(error.kind).label
        return CommandError(f"Port {error.port} (the {label} sandbox's) is taken: the {count} sandboxes need "
                            f"{count} free ports in a row; choose the first with --sandbox-port N "
                            "(make demo SANDBOX_PORT=9101), and the web server's with PORT=N.")

    def handle(self, *args, port, sandbox_port, traffic_seconds, no_syncs, **options):
        self._ports_check(port, sandbox_port)
        # Ctrl-C and a kill stop everything; set here since a shell starts background jobs ignoring SIGINT.
        signal.signal(signal.SIGINT, _interrupt)
        signal.signal(signal.SIGTERM, _interrupt)
        sandboxes, children, interrupted = {}, [], False
        try:
            try:
                sandboxes = demo_sandboxes_start(base_port=sandbox_port)
            except SandboxPortTaken as error:  # taken since the check
                raise self._sandbox_port_error(error, len(demo_kinds())) from None
            for kind, running in sandboxes.items():
                self.stdout.write(f"{kind} sandbox: {running.url}")
            integrations = demo_integrations_ensure(sandboxes=sandboxes, echo=self.stdout.write)
            if not no_syncs:
                self.stdout.write("Initial syncs:")
                demo_initial_syncs(sandboxes=sandboxes, integrations=integrations, echo=self.stdout.write)
            demo_ready(sandboxes=sandboxes, integrations=integrations)
            python, web_url = sys.executable, f"http://127.0.0.1:{port}"
            # Process groups of their own: a terminal's Ctrl-C reaches this command only, which stops them.
            children = [
                subprocess.Popen([python, "manage.py", "qcluster"], start_new_session=True),  # noqa: S603
                # --insecure: serve the admin and staff CSS without DEBUG, for the demo only.
                subprocess.Popen([python, "manage.py", "runserver", "--noreload", "--insecure",  # noqa: S603
                                  f"127.0.0.1:{port}"], start_new_session=True),
            ]
            self._banner(web_url)
            self._run(children, sandboxes, integrations, web_url, traffic_seconds)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the stop short
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            processes_stop(children)
            demo_sandboxes_stop(sandboxes)
        if children and not interrupted:
            raise CommandError("The web server or the worker stopped on its own (see above); the demo stopped too.")

    def _banner(self, web_url: str) -> None:
        self.stdout.write(self.style.SUCCESS(
            f"\nGatehouse is running.\n  admin:      {web_url}/admin/  (login {DEMO_ADMIN[0]} / {DEMO_ADMIN[1]})\n"
            f"  staff:      {web_url}/staff/\n  access log: {web_url}/staff/access-log/\n"
            f"  API docs:   {web_url}/api/docs/\n"
            f"  member app: {DEMO_MEMBER[0]} / {DEMO_MEMBER[1]} (POST {web_url}/api/v1/auth/login, "
            f"then GET {web_url}/api/v1/doors)\n"
            f"  portal:     {web_url}/portal/  (the same member login, on the web)\nCtrl-C stops everything."
        ))

    def _run(self, children, sandboxes, integrations, web_url, traffic_seconds) -> None:
        """Make traffic until a child stops on its own (or a signal ends it)."""
        rng, next_tick = random.Random(7), time.monotonic() + traffic_seconds
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
            if traffic_seconds and time.monotonic() >= next_tick:
                next_tick = time.monotonic() + traffic_seconds
                try:
                    told = demo_traffic(sandboxes=sandboxes, integrations=integrations, web_url=web_url, rng=rng)
                    self.stdout.write(f"demo traffic: {told}")
                except requests.RequestException as error:  # the web server is still starting
                    self.stdout.write(f"demo traffic skipped: {type(error).__name__}")
