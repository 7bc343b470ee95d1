"""Reactions to signals of the lower apps (connected in IntegrationsConfig.ready)."""

from django.dispatch import receiver

from accessctl.signals import door_accesses_recorded
from integrations.models import Integration
from integrations.reactions import door_accesses_notify


@receiver(door_accesses_recorded, dispatch_uid="integrations-door-accesses-recorded")
def door_accesses_wake_checkins(sender, source: str, accesses: list, **kwargs):
    """New granted door accesses (from any door system, or Gatehouse's own unlocks) wake
    the member systems' check-in syncs, once per recording; never the reporter itself."""
    if not any(access.granted for access in accesses):
        return
    kind, _, pk = source.rpartition("-")
    origin = Integration.objects.filter(pk=int(pk), kind=kind).first() if pk.isdigit() else None
    door_accesses_notify(origin=origin)
