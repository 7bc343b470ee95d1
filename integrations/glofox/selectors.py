"""Reads about Glofox configurations that other apps ask for (through accessctl.owners)."""

import re

from django.urls import reverse

from accessctl.owners import RuleOwner
from integrations.glofox.models import GlofoxConfiguration

OWNER_KEY = re.compile(r"glofox-(?P<integration>\d+):config-(?P<configuration>\d+)")


def rule_owner_describe(owner: str) -> RuleOwner | None:
    """The Glofox configuration an access rule's owner key names, with its integration's page."""
    match = OWNER_KEY.fullmatch(owner or "")
    if match is None:
        return None
    configuration = GlofoxConfiguration.objects.select_related("integration").filter(
        pk=match["configuration"], integration_id=match["integration"]).first()
    if configuration is None:
        return None
    return RuleOwner(label=f"the configuration {configuration} of the integration {configuration.integration}",
                     url=reverse("admin:integrations_integration_change", args=[configuration.integration_id]))
