"""Serve the admin with a task worker beside it until Ctrl-C, then stop both."""

import subprocess
import sys
import time

from django.core.management.base import BaseCommand

from integrations.demo import DEMO_ADMIN


class Command(BaseCommand):
    help = "Run the web server and a django-q2 worker together (the demo)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, port, **options):
        python = sys.executable
        children = [
            subprocess.Popen([python, "manage.py", "qcluster"]),
            # --insecure: serve the admin and staff CSS without DEBUG, for the demo only.
            subprocess.Popen([python, "manage.py", "runserver", "--noreload", "--insecure", f"127.0.0.1:{port}"]),
        ]
        self.stdout.write(self.style.SUCCESS(
            f"Gatehouse admin: http://127.0.0.1:{port}/admin/  "
            f"login {DEMO_ADMIN[0]} / {DEMO_ADMIN[1]}  (Ctrl-C stops everything)"
        ))
        try:
            while all(child.poll() is None for child in children):
                time.sleep(1)
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
