"""How vendors meet in the club records.

A member system's sync says which clients changed, and every connector that reacts to
access changes (Kisi) is woken for them. A door system that records door accesses wakes
every member system that checks members in (Glofox, Momence) to walk the new ones.
"""

from integrations.connectors import connector_classes
from integrations.models import Integration, SyncRun
from integrations.queue import task_queue

# Above this many clients a reacting connector reconciles everyone instead.
MAX_CLIENTS_PER_TASK = 5000


def access_changed_notify(*, client_ids: set[int], origin: Integration | None = None) -> int:
    """Queue, after commit, the access sync of every active integration that reacts.

    Returns how many syncs were queued.
    """
    if not client_ids:
        return 0
    clients = sorted(client_ids) if len(client_ids) <= MAX_CLIENTS_PER_TASK else None
    return _wake("access_sync", origin, {"clients": clients},
                 f"for {len(client_ids)} changed client(s)")


def door_accesses_notify(*, origin: Integration | None = None) -> int:
    """Queue, after commit, the check-in sync of every active integration that has one.

    Returns how many syncs were queued. The check-in syncs' own cursors say what is new.
    """
    return _wake("checkin_sync", origin, {}, "for new door accesses")


def _wake(attribute: str, origin: Integration | None, options: dict, why: str) -> int:
    reacting = {kind: getattr(cls, attribute) for kind, cls in connector_classes().items()
                if getattr(cls, attribute)}
    targets = Integration.objects.filter(kind__in=reacting, is_active=True)
    if origin is not None:
        targets = targets.exclude(pk=origin.pk)
    queued = 0
    for integration in targets:
        sync_name = reacting[integration.kind]
        task_queue("integrations.tasks.sync_task", integration.pk, sync_name, SyncRun.Trigger.ACCESS, options,
                   task_name=f"integration {integration.pk}: {sync_name} {why}")
        queued += 1
    return queued
