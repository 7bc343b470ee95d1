"""Prepared reads: a query the ORM builds and compiles once per database connection, then runs
with new values. For the hot paths (the door decision), where building and compiling a
query cost more than running it."""

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Expression


class Given(Expression):
    """A value a prepared read is given each time it runs (see Prepared)."""

    def __init__(self, name: str, output_field):
        super().__init__(output_field=output_field)
        self.name = name

    def as_sql(self, compiler, connection):
        return "%s", [self]


class Prepared:
    """A read the ORM builds and compiles once per database connection, then runs with the
    values given: building and compiling the queries were most of a door decision's time."""

    def __init__(self, build):
        self.build = build  # () -> a values_list queryset with Given where the values go

    def rows(self, **given) -> list[tuple]:
        """The rows with `given` in place of each Given, as the compiler selects them (the fields,
        then the annotations: a values_list must name its annotations last to read the same)."""
        connection = connections[DEFAULT_DB_ALIAS]
        # Kept on the connection (one per thread), so it goes when the connection goes.
        kept = connection.__dict__.setdefault("prepared_reads", {})
        compiled = kept.get(self)
        if compiled is None:
            compiler = self.build().query.get_compiler(connection=connection)
            compiled = kept[self] = (compiler, *compiler.as_sql())
        compiler, sql, params = compiled
        values = [p.output_field.get_db_prep_value(given[p.name], connection) if isinstance(p, Given) else p
                  for p in params]
        with connection.cursor() as cursor:
            cursor.execute(sql, values)
            rows = cursor.fetchall()
        return list(compiler.results_iter([rows], tuple_expected=True))
