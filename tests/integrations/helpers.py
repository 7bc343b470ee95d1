"""What every vendor's tests share."""

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def sleeps_recorded(monkeypatch, *connectors) -> list[float]:
    """The HTTP layer's sleeps (backoff, Retry-After, pacing) of these connectors, recorded
    instead of slept; returned so a test can see the waits it asked for."""
    sleeps: list[float] = []
    for connector in connectors:
        monkeypatch.setattr(connector, "http_options", {"sleep": sleeps.append, "backoff": 0.01}, raising=False)
    return sleeps



def migrate(targets):
    """Migrate the test database to `targets` (app, migration) and return the models as
    they were there, for a data migration's test."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps
