"""Reactions to signals of the lower apps (connected in IntegrationsConfig.ready)."""

from django.core.signals import setting_changed
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accessctl.signals import door_accesses_recorded
from clients.models import Location, LocationTier
from integrations.models import Integration, PendingRecord
from integrations.pending import pending_records_apply
from integrations.reactions import door_accesses_notify
from integrations.selectors import integration_for_source
from integrations.webhooks import receivers_forget
from packages.models import Package
from packages.signals import packages_added

Waits = PendingRecord.Waits


@receiver(door_accesses_recorded, dispatch_uid="integrations-door-accesses-recorded")
def door_accesses_wake_checkins(sender, source: str, accesses: list, integration_id: int | None = None,
                                **kwargs):
    """New granted door accesses (from any door system, or Gatehouse's own unlocks) wake
    the member systems' check-in syncs, once per recording; never the reporter itself."""
    if not any(access.granted for access in accesses):
        return
    door_accesses_notify(origin=integration_for_source(source, integration_id=integration_id))


# The back-fill (integrations.pending): whatever creates a package, a tier or a location's
# number places the records that waited for it. Fixtures loaded raw are left alone.
@receiver(post_save, sender=Package, dispatch_uid="integrations-pending-package-saved")
def package_saved_place_pending(sender, instance, raw=False, **kwargs):
    """A package saved one at a time (the admin, an import): place what waited for it."""
    if not raw:
        pending_records_apply(waits_for=[Waits.PACKAGE])


@receiver(packages_added, dispatch_uid="integrations-pending-packages-added")
def packages_added_place_pending(sender, alt_ids, **kwargs):
    """Packages created in bulk (the catalogue's "create missing packages", a catalogue sync)."""
    pending_records_apply(waits_for=[Waits.PACKAGE])


@receiver(post_save, sender=LocationTier, dispatch_uid="integrations-pending-tier-saved")
def tier_saved_place_pending(sender, instance, raw=False, **kwargs):
    if not raw:
        pending_records_apply(waits_for=[Waits.TIER])


@receiver(post_save, sender=Location, dispatch_uid="integrations-pending-location-saved")
def location_saved_place_pending(sender, instance, raw=False, **kwargs):
    """A location saved with a vendor's number (e.g. Perfect Gym's club number)."""
    if not raw and instance.integration_numbers:
        pending_records_apply(waits_for=[Waits.LOCATION])


# Webhooks read an integration once per process (integrations.webhooks); a save or delete
# here drops it at once (another process's is caught by the store's own check).
@receiver(post_save, sender=Integration, dispatch_uid="integrations-webhooks-integration-saved")
@receiver(post_delete, sender=Integration, dispatch_uid="integrations-webhooks-integration-deleted")
def integration_changed_forget(sender, instance, **kwargs):
    receivers_forget(instance.pk)


@receiver(setting_changed, dispatch_uid="integrations-webhooks-keys-changed")
def keys_changed_forget(sender, setting, **kwargs):
    """New FIELD_ENCRYPTION_KEYS (tests; a deployment restarts) may make a secret readable or not."""
    if setting == "FIELD_ENCRYPTION_KEYS":
        receivers_forget()
