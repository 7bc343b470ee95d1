"""The floor a sync is measured against: PostgreSQL's own COPY of the rows it wrote.

The rows are read out of the synced tables first (untimed), then copied into empty
twins in one transaction and timed, wall and the backend's CPU. The twins are ordinary
tables (written to the WAL as the synced ones are, where a temporary table is not) and
are dropped afterwards. Two kinds of twin:

- `complete=False`: the columns and defaults only, plus the unique key the sync's
  upsert conflicts on (the floor for the rows alone);
- `complete=True`: `LIKE ... INCLUDING ALL` (every index, check and default) plus the
  table's foreign keys, deferred as they are and pointing at the twins among the tables
  copied, so the floor pays every write the sync pays.
"""

import io
from dataclasses import dataclass, field

from django.db import connection, transaction

from bench.support import database_cpu_seconds, timed

# The key each synced table's upsert conflicts on (ON CONFLICT), kept by a plain twin.
UPSERT_KEYS = {
    "clients_client": "source, external_id",
    "clients_clientidentity": "identity_type_id, value",
    "packages_clientpackage": "source, alt_id",
}
# Every table a Perfect Gym initial sync writes club rows to, in the order it writes them.
SYNCED_TABLES = ("clients_client", "clients_clientidentity", "packages_clientpackage")


@dataclass
class Floor:
    """What the COPY took: wall seconds (whole and per table; the commit checks the
    deferred foreign keys), its PostgreSQL backend's CPU seconds, rows per table."""

    seconds: float = 0.0
    each: dict[str, float] = field(default_factory=dict)
    database_cpu: float | None = None
    rows: dict[str, int] = field(default_factory=dict)

    def note(self) -> str:
        tables = ", ".join(f"{table} {self.rows[table]} rows {self.each[table]:.2f} s" for table in self.rows)
        database = f"; its PostgreSQL backend's CPU {self.database_cpu:.2f} s" if self.database_cpu is not None else ""
        return f"{tables}, commit {self.each['commit']:.2f} s{database}"


def _twin(cursor, table: str, twin: str, tables: tuple[str, ...], complete: bool) -> None:
    if not complete:
        cursor.execute(f"CREATE TABLE {twin} (LIKE {table} INCLUDING DEFAULTS, UNIQUE ({UPSERT_KEYS[table]}))")
        return
    cursor.execute(f"CREATE TABLE {twin} (LIKE {table} INCLUDING ALL)")
    cursor.execute("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass "
                   "AND contype = 'f' ORDER BY conname", [table])
    for (definition,) in cursor.fetchall():
        for other in tables:
            definition = definition.replace(f"REFERENCES {other}(", f"REFERENCES floor_{other}(")
        cursor.execute(f"ALTER TABLE {twin} ADD {definition}")


def copy_floor(*, tables: tuple[str, ...] = ("clients_client",), complete: bool = False) -> Floor:
    """COPY every row of `tables` (in this order) into empty twins and time it (see the module)."""
    floor = Floor()
    data: dict[str, bytes] = {}
    with connection.cursor() as cursor:
        for table in tables:
            buffer = io.BytesIO()
            with cursor.cursor.copy(f"COPY {table} TO STDOUT") as out:
                for chunk in out:
                    buffer.write(chunk)
            data[table] = buffer.getvalue()
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - our own table names
            floor.rows[table] = cursor.fetchone()[0]
        with transaction.atomic():
            for table in tables:
                _twin(cursor, table, f"floor_{table}", tables, complete)
        try:
            database = database_cpu_seconds()
            with timed() as whole:
                with transaction.atomic():
                    for table in tables:
                        with timed() as each, cursor.cursor.copy(f"COPY floor_{table} FROM STDIN") as into:
                            into.write(data[table])
                        floor.each[table] = each.seconds
            floor.seconds = whole.seconds
            floor.each["commit"] = floor.seconds - sum(floor.each.values())
            if database is not None and (after := database_cpu_seconds()) is not None:
                floor.database_cpu = after - database
        finally:
            cursor.execute("DROP TABLE IF EXISTS " + ", ".join(f"floor_{table}" for table in reversed(tables)))
    return floor
