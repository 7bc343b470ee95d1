from django.apps import AppConfig


class GladstoneConfig(AppConfig):
    """Gladstone's own tables: used member tokens and subscriptions awaiting a package."""

    name = "integrations.gladstone"
    label = "gladstone"
    verbose_name = "Gladstone Plus2"
    default_auto_field = "django.db.models.BigAutoField"
