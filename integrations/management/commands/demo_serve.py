"""The demo: every vendor sandbox, one integration each, their initial syncs, the web
server and a task worker, and a little traffic every few seconds; Ctrl-C stops it all."""

import random
import signal
import subprocess
import sys
import time

import requests
from django.core.management.base import BaseCommand

from integrations.demo import DEMO_ADMIN
from integrations.demo_vendors import (
    demo_initial_syncs,
    demo_integrations_ensure,
    demo_sandboxes_start,
    demo_traffic,
)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Run the demo: vendor sandboxes, integrations, web server and worker (Ctrl-C stops all)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--sandbox-port", type=int, default=8101, help="The first sandbox's port.")
        parser.add_argument("--traffic-seconds", type=float, default=10.0, help="Seconds between demo events.")
        parser.add_argument("--no-syncs", action="store_true", help="Skip the initial syncs.")

    def handle(self, *args, port, sandbox_port, traffic_seconds, no_syncs, **options):
        sandboxes = demo_sandboxes_start(base_port=sandbox_port)
        for kind, running in sandboxes.items():
            self.stdout.write(f"{kind} sandbox: {running.url}")
        integrations = demo_integrations_ensure(sandboxes=sandboxes)
        if not no_syncs:
            self.stdout.write("Initial syncs:")
            demo_initial_syncs(sandboxes=sandboxes, integrations=integrations, echo=self.stdout.write)
        python = sys.executable
        web_url = f"http://127.0.0.1:{port}"
        children = [
            subprocess.Popen([python, "manage.py", "qcluster"]),
            # --insecure: serve the admin and staff CSS without DEBUG, for the demo only.
            subprocess.Popen([python, "manage.py", "runserver", "--noreload", "--insecure", f"127.0.0.1:{port}"]),
        ]
        self.stdout.write(self.style.SUCCESS(
            f"\nGatehouse is running.\n  admin:      {web_url}/admin/\n  staff:      {web_url}/staff/\n"
            f"  access log: {web_url}/staff/access-log/\n  API docs:   {web_url}/api/docs/\n"
            f"  login:      {DEMO_ADMIN[0]} / {DEMO_ADMIN[1]}\nCtrl-C stops everything."
        ))
        rng, next_tick = random.Random(7), time.monotonic() + traffic_seconds
        signal.signal(signal.SIGTERM, _interrupt)  # a kill stops everything too, as Ctrl-C does
        try:
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
                if traffic_seconds and time.monotonic() >= next_tick:
                    next_tick = time.monotonic() + traffic_seconds
                    try:
                        told = demo_traffic(sandboxes=sandboxes, integrations=integrations, web_url=web_url, rng=rng)
                        self.stdout.write(f"demo traffic: {told}")
                    except requests.RequestException as error:  # the web server is still starting
                        self.stdout.write(f"demo traffic skipped: {type(error).__name__}")
        except KeyboardInterrupt:
            pass
        finally:
            for child in children:
                if child.poll() is None:
                    child.terminate()
            for child in children:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()
            for running in sandboxes.values():
                running.server.shutdown()
