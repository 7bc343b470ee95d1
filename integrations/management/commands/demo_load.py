"""Load the demo organisation (idempotent)."""

from django.core.management.base import BaseCommand

from integrations.demo import DEMO_ADMIN, DEMO_MEMBER, demo_club_load


class Command(BaseCommand):
    help = "Load the demo organisation: locations, doors, packages, identities, clients."

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=300)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, clients, seed, **options):
        counts = demo_club_load(clients=clients, seed=seed)
        summary = ", ".join(f"{k} {v}" for k, v in counts.items())
        self.stdout.write(self.style.SUCCESS(f"Demo organisation ready: {summary}."))
        self.stdout.write(f"Admin login: {DEMO_ADMIN[0]} / {DEMO_ADMIN[1]}")
        self.stdout.write(f"Member app login: {DEMO_MEMBER[0]} / {DEMO_MEMBER[1]}")
