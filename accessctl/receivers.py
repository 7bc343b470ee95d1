"""accessctl's own reactions to model changes (connected in AccessctlConfig.ready)."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accessctl.models import TagSequence
from accessctl.sequences import sequences_schedule_sync


@receiver(post_save, sender=TagSequence, dispatch_uid="accessctl-sequence-saved")
@receiver(post_delete, sender=TagSequence, dispatch_uid="accessctl-sequence-deleted")
def sequence_changed(sender, instance, **kwargs):
    """A sequence saved (from the admin, a shell or a fixture) starts the every-minute task."""
    if not kwargs.get("raw"):
        sequences_schedule_sync()
