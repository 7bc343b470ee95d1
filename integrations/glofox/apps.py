"""The Glofox vendor package is a Django app: it keeps configurations and check-in deliveries."""

from django.apps import AppConfig


class GlofoxConfig(AppConfig):
    name = "integrations.glofox"
    label = "glofox"
    verbose_name = "Glofox"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from accessctl.owners import rule_owner_register
        from integrations.glofox import signals  # noqa: F401 - registers the receivers
        from integrations.glofox.selectors import rule_owner_describe

        rule_owner_register(rule_owner_describe)  # the AccessRule admin shows its rules as owned
