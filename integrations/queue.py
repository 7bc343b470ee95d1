"""Queueing django-q2 tasks so a task exists exactly when the work that asks for it commits.

With the database broker (the default) the task row is written inside the caller's
transaction: the event and its task commit together, in one commit, or not at all. With
Redis (`REDIS_URL`) the task is pushed once the transaction has committed, so a worker
never picks up a task for rows it cannot see yet. In sync mode (tests, benchmarks) it runs
after commit, as a worker would.

Code that runs inside a transaction (a webhook's event, a sync page, a service marked
atomic) queues with `task_queue`; a view or admin action outside any transaction calls
django-q2's `async_task` directly. A hot path that writes its row and the task's in one
statement (integrations.webhooks) takes the task's row from `task_row`.
"""

from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils import timezone
from django_q.conf import Conf
from django_q.tasks import async_task


def task_queue(func: str, *args, **kwargs) -> None:
    """Queue `func(*args)` for a worker, tied to the current transaction's commit."""
    in_transaction = not transaction.get_autocommit()
    if in_transaction and Conf.ORM and not Conf.SYNC:
        async_task(func, *args, **kwargs)
    else:
        transaction.on_commit(lambda: async_task(func, *args, **kwargs))


class _Kept:
    """A broker that keeps the signed task instead of sending it (see task_row)."""

    def __init__(self):
        self.list_key, self.pack = Conf.CLUSTER_NAME, None

    def enqueue(self, pack):
        self.pack = pack


def task_row(func: str, *args, **kwargs) -> dict | None:
    """The django_q_ormq row the database broker would write for `func(*args)`: {key, payload, lock};
    None unless tasks go to the default database now (not Redis, not sync mode)."""
    if Conf.ORM != DEFAULT_DB_ALIAS or Conf.SYNC:
        return None
    kept = _Kept()
    async_task(func, *args, broker=kept, **kwargs)
    return {"key": kept.list_key, "payload": kept.pack, "lock": timezone.now()}
