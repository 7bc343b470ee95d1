"""One-statement bulk writes for the upsert services.

On PostgreSQL a page of rows is copied (COPY, binary where the values allow) into a
temporary stage table with the same columns, then one `INSERT ... SELECT ... FROM stage
ON CONFLICT (...) DO UPDATE ...` writes it. That skips building a model instance per
row (the ORM's bulk_create costs most of a sync's time at 100,000 rows) and the driver
splicing every value into the SQL text (the project binds parameters client-side).
Other databases use bulk_create with the same conflict handling.
"""

from datetime import date, datetime
from typing import Any

from django.db import connections, router, transaction
from django.utils import timezone


def rows_changed(*, existing: dict[str, dict], wanted: dict[str, dict], fields: list[str], result) -> list[str]:
    """The keys of `wanted` rows that are new or differ from `existing` in `fields`.

    Counts each row into result.created, result.updated or result.unchanged (an UpsertResult),
    so every bulk upsert skips unchanged rows the same way.
    """
    changed = []
    for key, values in wanted.items():
        row = existing.get(key)
        if row is None:
            result.created += 1
        elif all(row[name] == values[name] for name in fields):
            result.unchanged += 1
            continue
        else:
            result.updated += 1
        changed.append(key)
    return changed


def rows_upsert(*, model, key: str, wanted: dict[str, dict], fields: list[str], result) -> None:
    """Create or update `model` rows by their unique column `key` (key value -> `fields`
    values): unchanged rows are not written, each row is counted into `result`, and
    result.ids gets key value -> pk of every wanted row. Three statements at most."""
    rows = model._base_manager.filter(**{f"{key}__in": list(wanted)})
    existing = {row.pop(key): row for row in rows.values(key, *fields)}
    changed = rows_changed(existing=existing, wanted=wanted, fields=fields, result=result)
    rows_write(model=model, rows=[{key: k, **wanted[k]} for k in changed], unique_fields=[key], update_fields=fields)
    result.ids = dict(rows.values_list(key, "pk"))


def rows_write(
    *, model, rows: list[dict[str, Any]], unique_fields: list[str] | None = None,
    update_fields: list[str] | None = None, returning: list[str] | None = None, batch_size: int = 5000,
) -> list[tuple] | None:
    """Insert `rows` (field name or attname -> value, the same keys in every row), or,
    with `unique_fields`, update the rows that conflict on them (their `update_fields`;
    none: a row that conflicts is not written).

    Values must be plain (str, int, bool, None, date, aware datetime): no expressions.
    Defaults of the columns not given are computed once per call. With `returning`
    (column names), PostgreSQL gives those columns of every row written; other
    databases give None (read them back).
    """
    connection = connections[router.db_for_write(model)]
    if not rows:
        return [] if connection.vendor == "postgresql" else None
    if connection.vendor != "postgresql":
        if unique_fields and not update_fields:
            conflicts = {"ignore_conflicts": True}
        elif unique_fields:
            conflicts = {"update_conflicts": True, "unique_fields": unique_fields, "update_fields": update_fields}
        else:
            conflicts = {}
        model._base_manager.using(connection.alias).bulk_create([model(**row) for row in rows], batch_size=1000,
                                                                 **conflicts)
        return None
    # Like bulk_create: auto_now(_add) columns get now, and columns not given their default.
    given = {model._meta.get_field(name).attname: name for name in rows[0]
             if not _stamped(model._meta.get_field(name))}
    fields = [f for f in model._meta.concrete_fields if f.attname in given or not f.primary_key]
    defaults = {f.attname: _default(f) for f in fields if f.attname not in given}
    quote = connection.ops.quote_name
    table, stage = quote(model._meta.db_table), quote(f"stage_{model._meta.db_table}")
    head = f"INSERT INTO {table} ({', '.join(quote(f.column) for f in fields)}) "
    tail = ""
    if unique_fields:
        conflict = ", ".join(quote(model._meta.get_field(name).column) for name in unique_fields)
        updates = ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}"
                            for c in (model._meta.get_field(name).column for name in update_fields or []))
        tail = f" ON CONFLICT ({conflict}) " + (f"DO UPDATE SET {updates}" if updates else "DO NOTHING")
    if returning:
        tail += " RETURNING " + ", ".join(quote(model._meta.get_field(name).column) for name in returning)
    # The stage: this session's table of the same columns, without constraints (the
    # insert checks them). Its rows go at commit (truncated in place) and before each
    # batch, as a transaction may write the same table more than once.
    # Names come from the model's meta, quoted; values travel as parameters or COPY data.
    empty = (f"CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS "  # noqa: S608
             f"AS TABLE {table} WITH NO DATA; DELETE FROM {stage}")
    written: list[tuple] = []
    # In one transaction (inside one, no savepoint): the stage keeps its rows until commit.
    with transaction.atomic(using=connection.alias, savepoint=False), connection.cursor() as cursor:
        for start in range(0, len(rows), batch_size):
            batch = rows[start:start + batch_size]
            columns = {attname: [row[name] for row in batch] for attname, name in given.items()}
            single = {attname for attname, values in columns.items() if values.count(values[0]) == len(values)}
            if len(single) == len(columns):
                single.discard(next(iter(columns)))  # the copy gives the row count
            picks, scalars, copied = [], [], []
            for field in fields:
                if field.attname in given and field.attname not in single:
                    picks.append(f"s.{quote(field.column)}")
                    copied.append(field)
                else:  # a default, or one value for the whole page: sent once
                    picks.append(f"%s::{field.db_type(connection)}")
                    scalars.append(columns[field.attname][0] if field.attname in given else defaults[field.attname])
            cursor.execute(empty)
            _stage_copy(cursor, stage, copied, [columns[f.attname] for f in copied])
            cursor.execute(f"{head}SELECT {', '.join(picks)} FROM {stage} AS s{tail}", scalars)  # noqa: S608
            if returning:
                written += cursor.fetchall()
    return written


# Column type -> what PostgreSQL's binary format of it takes from Python, exactly.
BINARY = {
    "smallint": ("int2", int), "integer": ("int4", int), "bigint": ("int8", int), "boolean": ("bool", bool),
    "varchar": ("varchar", str), "text": ("text", str), "date": ("date", date),
    "timestamp with time zone": ("timestamptz", datetime),
}


def _stage_copy(cursor, stage: str, fields, columns: list[list]) -> None:
    """COPY the columns into the stage: binary when every value is exactly the Python type
    its column's binary format takes (no cast is applied to binary data), text otherwise
    (PostgreSQL parses each value as its column's type)."""
    connection = cursor.db
    kinds = [_binary_kind(field.db_type(connection), values) for field, values in zip(fields, columns, strict=True)]
    binary = all(kinds)
    sql = (f"COPY {stage} ({', '.join(connection.ops.quote_name(f.column) for f in fields)}) FROM STDIN"
           + (" (FORMAT BINARY)" if binary else ""))

    def copy(sql, params, many, context):
        with cursor.cursor.copy(sql) as stream:
            if binary:
                stream.set_types(kinds)
            write = stream.write_row
            for row in zip(*columns, strict=True):
                write(row)

    # Through the connection's execute wrappers, so statement counters see the COPY too.
    cursor._execute_with_wrappers(sql, None, False, executor=copy)


def _binary_kind(db_type: str, values: list) -> str | None:
    kind, python_type = BINARY.get(db_type.split("(")[0], (None, None))
    if kind is None:
        return None
    types = set(map(type, values)) - {type(None)}
    if types - {python_type}:
        return None
    if python_type is datetime and any(v.tzinfo is None for v in values if v is not None):
        return None  # naive: text, read in the session's time zone as a cast would
    return kind


def _stamped(field) -> bool:
    return getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)


def _default(field):
    return timezone.now() if _stamped(field) else field.get_default()


def tables_analyze(*, models) -> None:
    """Refresh PostgreSQL's statistics of these models' tables (elsewhere: nothing).

    A bulk load into a table the planner has no statistics for gets plans made for an
    empty table (a page's key look-up scans every row), so loads call this once the
    table has grown; autovacuum would too, but a minute late or never when it is off.
    """
    by_alias: dict[str, list] = {}
    for model in models:
        by_alias.setdefault(router.db_for_write(model), []).append(model)
    for alias, group in by_alias.items():
        connection = connections[alias]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(m._meta.db_table) for m in group))


def commit_unflushed() -> None:
    """Let the current transaction's commit return before its WAL is on disk (PostgreSQL).

    For sync pages only: a page commits together with its cursor, so a commit lost in
    a crash loses its cursor too and the next run reads that page again. Saves one disk
    flush per page of a bulk load.
    """
    connection = connections["default"]
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
