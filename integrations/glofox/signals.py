"""A configuration's access rules go with it, also when its integration is deleted (cascade)."""

from django.db.models.signals import post_delete
from django.dispatch import receiver

from integrations.glofox.models import GlofoxConfiguration
from integrations.glofox.services import configuration_rules_delete


@receiver(post_delete, sender=GlofoxConfiguration, dispatch_uid="glofox_configuration_rules_delete")
def _configuration_deleted(sender, instance, **kwargs):
    configuration_rules_delete(configuration=instance)
