"""Perfect Gym at scale: the initial sync of 100,000, 300,000 and 1,000,000 members with
their contracts and member products, each from its own sandbox process into emptied club
tables, to show the cost per member stays flat as the chain grows.

The setup and the syncs are bench_perfectgym's. Peak memory is this process's (the
syncing one) during each scale alone; CPU seconds are this process's and its PostgreSQL
backend's. BENCH_PG_SCALES sets the scales, e.g. "20000,60000" for a quick look.
"""

import os

from django.db import connection

from bench.bench_perfectgym import _setup, counting, initial_sync
from bench.support import Figure, peak_memory_reset, peak_memory_since_reset_mb, sandbox_process
from clients.models import Client
from packages.models import ClientPackage

SCALES = [int(n) for n in os.environ.get("BENCH_PG_SCALES", "100000,300000,1000000").split(",")]
# What the setup and the syncs wrote; CASCADE empties the tables that point at them.
TABLES = ["clients_location", "clients_identitytype", "packages_package", "integrations_integration",
          "clients_client"]


def _empty() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")


def run() -> list[Figure]:
    figures: list[Figure] = []
    rates: dict[int, float] = {}
    cpu_rates: dict[int, float] = {}  # CPU seconds per 1,000 members, this process and its database backend
    for members in SCALES:
        _empty()
        with sandbox_process("perfectgym", members=members) as url:
            integration = _setup(url)
            peak_memory_reset()
            with counting() as counter:
                took = initial_sync(integration, counter, {})
            peak = peak_memory_since_reset_mb()
        clients, packages = Client.objects.count(), ClientPackage.objects.count()
        rates[members] = took.seconds / members * 1000
        cpu_rates[members] = (took.cpu + (took.database_cpu or 0.0)) / members * 1000
        figures += [
            Figure(f"initial sync {members:,} members", took.seconds, "s",
                   f"{clients} clients, {packages} client packages; {took.note()}"),
            Figure(f"initial sync {members:,} members per 1,000 members", rates[members], "s",
                   f"CPU of this process {took.cpu / members * 1000:.3f} s per 1,000 members"),
            Figure(f"initial sync {members:,} members CPU time", took.cpu, "s",
                   "this process (the sync and its page reader)"
                   + (f"; its PostgreSQL backend {took.database_cpu:.1f} s" if took.database_cpu is not None
                      else "")),
            Figure(f"initial sync {members:,} members peak memory", peak, "MB",
                   "this process during this scale; the sandbox runs apart"),
        ]
    smallest, largest = min(rates), max(rates)
    if largest != smallest:
        figures.append(Figure(
            "cost per member, largest scale / smallest", rates[largest] / rates[smallest], "x",
            f"seconds per 1,000 members at {largest:,} over {smallest:,}: 1.0 is linear growth"))
        figures.append(Figure(
            "CPU per member, largest scale / smallest", cpu_rates[largest] / cpu_rates[smallest], "x",
            f"CPU seconds (this process and its PostgreSQL backend) per 1,000 members at {largest:,} over "
            f"{smallest:,}: the same ratio when the machine's load varies between scales"))
    return figures
