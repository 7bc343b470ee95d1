"""The Glofox vendor package is a Django app: it keeps configurations and check-in deliveries."""

from django.apps import AppConfig


class GlofoxConfig(AppConfig):
    name = "integrations.glofox"
    label = "glofox"
    verbose_name = "Glofox"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from integrations.glofox import signals  # noqa: F401 - registers the receivers
