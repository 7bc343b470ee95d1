"""Serve one vendor's sandbox over HTTP on 127.0.0.1 until interrupted."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import import_string

from integrations.connectors import connector_class
from integrations.errors import PermanentError
from integrations.sandbox.transports import serve


class Command(BaseCommand):
    help = "Serve a vendor sandbox: python manage.py sandbox KIND --port N [--members N] [--seed N]"

    def add_arguments(self, parser):
        parser.add_argument("kind")
        parser.add_argument("--port", type=int, required=True)
        parser.add_argument("--members", type=int, default=100)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, kind, port, members, seed, **options):
        try:
            path = connector_class(kind).sandbox
        except PermanentError as error:
            raise CommandError(str(error)) from None
        if not path:
            raise CommandError(f"The {kind} connector has no sandbox.")
        sandbox = import_string(path)(members=members, seed=seed)
        server = serve(sandbox, port=port)
        self.stdout.write(f"{kind} sandbox on http://127.0.0.1:{port}/ ({members} members, seed {seed})")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            server.shutdown()
